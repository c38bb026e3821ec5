"""The Webhooks page respects Airflow's auth, with real users, and works in a real browser.

Its own Airflow (``teams`` fixture): SimpleAuthManager with real logins and multi-team mode, two
DAG bundles owned by teams ``alpha`` and ``beta`` (``ui_alpha``, ``ui_beta``: copies of
``tests/dags/ui_webhooks.py``; ``ui_invalid`` in alpha's), and three users:

- ``admin`` (admin): everything;
- ``ana`` (viewer, team alpha): may read alpha's DAGs only, and may not trigger them;
- ``ben`` (user, team beta): may read and trigger beta's DAGs only.

So the per-DAG filter is Airflow's own answer, not a stub. The browser tests drive headless
Chromium (Debian ``chromium`` and ``chromium-driver``) through Selenium: log in on Airflow's
login page, open Browse -> Webhooks, reveal a URL, follow a DAG link. They take the screenshot
in ``docs/webhooks-page.png`` (written there when ``WEBHOOK_UPDATE_SCREENSHOT=1``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from tools.stack import AirflowStack

# the fixture makes two teams (`airflow teams create`, multi-team bundles): Airflow 3.2+
pytestmark = [pytest.mark.integration, pytest.mark.requires_airflow(3, 2)]

REPO = Path(__file__).resolve().parents[2]
PAGE = "/webhook-trigger-ui"
KEY = "t6ui-team-KEY-value"
USERS = {"admin": "admin", "ana": "viewer:alpha", "ben": "user:beta"}


@pytest.fixture(scope="module")
def teams():
    stack = AirflowStack([], env={
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__MULTI_TEAM": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
    })
    passwords = stack.home / "passwords.json"
    passwords.write_text(json.dumps({user: f"{user}-pw" for user in USERS}))
    stack.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
    bundles = []
    for team in ("alpha", "beta"):
        folder = stack.home / f"{team}_dags"
        folder.mkdir()
        shutil.copy(REPO / "tests" / "dags" / "ui_webhooks.py", folder / f"ui_{team}.py")
        bundles.append({"name": f"{team}_bundle", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(folder)}, "team_name": team})
    shutil.copy(REPO / "tests" / "dags" / "ui_invalid.py", stack.home / "alpha_dags")
    stack.env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(bundles)
    try:
        stack.migrate()
        for team in ("alpha", "beta"):
            stack.airflow("teams", "create", team)
        stack.reserialize().start_api_server()
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            tokens = {u: client.post("/auth/token", json={"username": u, "password": f"{u}-pw"}).json()["access_token"]
                      for u in USERS}
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            for name, value in (("UI_KEY", KEY), ("UI_GH_SECRET", "unused")):
                variable = {"key": name, "value": value}
                assert client.post("/api/v2/variables", json=variable, headers=admin).status_code == 201
            for team in ("alpha", "beta"):  # one delivery each, so each user has deliveries to see, or not
                url = f"/api/v1/executions/webhook/t6ui/ui_{team}/t6ui-plain-key"
                assert client.post(url, json={"go": True, "team": team}).status_code == 200
        stack.tokens = tokens
        yield stack
    finally:
        stack.cleanup()


def get(stack, path: str, user: str | None = None, **kwargs) -> httpx.Response:
    cookies = {"_token": stack.tokens[user]} if user else None  # the UI's own session cookie
    with httpx.Client(base_url=stack.url, timeout=60, cookies=cookies) as client:
        return client.get(path, **kwargs)


def wait_for_deliveries(stack, user: str, dag_id: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = get(stack, f"{PAGE}/", user).text
        if 'id="deliveries-table"' in page and f"/dags/{dag_id}/runs/" in page:
            return page
        time.sleep(0.5)
    raise AssertionError(f"no delivery of {dag_id} on {user}'s page after {timeout}s")


# -- over HTTP -----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_and_refused_the_key(teams):
    page = get(teams, f"{PAGE}/", follow_redirects=False)
    assert page.status_code == 302
    assert page.headers["location"].startswith("/auth/login?next=")
    assert "webhook-trigger-ui" in page.headers["location"]
    url = get(teams, f"{PAGE}/api/url/t6ui/ui_beta/github")
    assert url.status_code == 401 and "log in" in url.json()["message"]
    assert KEY not in url.text


def test_a_bad_or_forged_token_is_anonymous(teams):
    forged = teams.tokens["ben"][:-4] + "AAAA"
    for token in ("garbage", forged):
        with httpx.Client(base_url=teams.url, timeout=60, cookies={"_token": token}) as client:
            assert client.get(f"{PAGE}/api/url/t6ui/ui_beta/github").status_code in (401, 403)
            assert KEY not in client.get(f"{PAGE}/api/url/t6ui/ui_beta/github").text
    bearer = get(teams, f"{PAGE}/api/url/t6ui/ui_beta/github", headers={"Authorization": f"Bearer {forged}"})
    assert bearer.status_code in (401, 403) and KEY not in bearer.text


def test_each_user_sees_only_the_dags_they_may_read(teams):
    admin = wait_for_deliveries(teams, "admin", "ui_beta")
    assert "ui_alpha" in admin and "ui_beta" in admin and "ui_invalid" in admin

    ana = wait_for_deliveries(teams, "ana", "ui_alpha")
    assert "ui_alpha" in ana and "ui_invalid" in ana
    assert "ui_beta" not in ana  # neither its webhooks nor its deliveries
    assert 'class="reveal"' not in ana and "key hidden: you may not trigger this DAG" in ana

    ben = wait_for_deliveries(teams, "ben", "ui_beta")
    assert "ui_beta" in ben and 'class="reveal"' in ben
    assert "ui_alpha" not in ben and "ui_invalid" not in ben
    for page in (admin, ana, ben):
        assert KEY not in page and "t6ui-plain-key" not in page


def test_only_a_user_who_may_trigger_the_dag_gets_its_key(teams):
    ben = get(teams, f"{PAGE}/api/url/t6ui/ui_beta/github", "ben")
    assert ben.status_code == 200, ben.text
    assert ben.json()["url"].endswith(f"/t6ui/ui_beta/{KEY}")

    ana_own = get(teams, f"{PAGE}/api/url/t6ui/ui_alpha/github", "ana")
    assert ana_own.status_code == 403 and "allowed to trigger" in ana_own.json()["message"]
    assert KEY not in ana_own.text
    # another team's DAG is not even confirmed to exist
    assert get(teams, f"{PAGE}/api/url/t6ui/ui_beta/github", "ana").status_code == 404
    assert get(teams, f"{PAGE}/api/url/t6ui/ui_alpha/github", "ben").status_code == 404
    other_team = get(teams, f"{PAGE}/dags/ui_alpha", "ben").text
    assert 'id="webhooks"' not in other_team and "declares no webhook" in other_team
    assert get(teams, f"{PAGE}/api/url/t6ui/ui_alpha/github", "admin").status_code == 200


# -- in a real browser ---------------------------------------------------------------------------


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("headless Chromium is not installed: apt-get install -y chromium chromium-driver")
    pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[test]'")
    return browser, driver


@pytest.fixture
def browser(teams):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000", "--lang=en-US"):
        options.add_argument(arg)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(120)
    try:
        yield chrome
    finally:
        chrome.quit()


def login_and_open_webhooks(chrome, stack, user: str):
    """Log in on Airflow's own login page, then open Browse -> Webhooks and enter its frame."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chrome, 60)
    chrome.get(f"{stack.url}/plugin/webhooks")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "input[name=username]"))).send_keys(user)
    chrome.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(f"{user}-pw")
    chrome.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    frame = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "iframe[title=Webhooks]")))
    chrome.switch_to.frame(frame)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#webhooks tbody tr")))
    return wait


def webhook_rows(chrome) -> dict[tuple, object]:
    from selenium.webdriver.common.by import By

    return {tuple(json.loads(row.get_attribute("data-webhook"))): row
            for row in chrome.find_elements(By.CSS_SELECTOR, "#webhooks tbody tr")}


def test_browser_reveal_copy_and_dag_link(teams, browser):
    from selenium.webdriver.common.by import By

    wait = login_and_open_webhooks(browser, teams, "ben")
    rows = webhook_rows(browser)
    assert {dag for _, dag, _ in rows} == {"ui_beta"}
    github = rows[("t6ui", "ui_beta", "github")]
    url = github.find_element(By.CSS_SELECTOR, "code.url")
    assert url.text.endswith("/t6ui/ui_beta/***")

    github.find_element(By.CSS_SELECTOR, "button.reveal").click()
    wait.until(lambda _: url.text.endswith(KEY))
    assert url.text == f"{teams.url}/api/v1/executions/webhook/t6ui/ui_beta/{KEY}"
    github.find_element(By.CSS_SELECTOR, "button.reveal").click()  # "Hide"
    wait.until(lambda _: url.text.endswith("/***"))

    copy = github.find_element(By.CSS_SELECTOR, "button.copy")
    copy.click()
    wait.until(lambda _: copy.text in ("Copied", "Copy failed"))

    unset = rows[("t6ui", "ui_beta", "unset")]
    unset.find_element(By.CSS_SELECTOR, "button.reveal").click()
    error = unset.find_element(By.CSS_SELECTOR, ".error")
    wait.until(lambda _: error.is_displayed() and "UI_NEVER_SET" in error.text)

    # A DAG link opens the DAG's page in the Airflow UI around the frame, not inside it.
    github.find_element(By.CSS_SELECTOR, "a.dag").click()
    browser.switch_to.default_content()
    wait.until(lambda chrome: chrome.current_url.endswith("/dags/ui_beta"))
    wait.until(lambda chrome: not chrome.find_elements(By.CSS_SELECTOR, "iframe[title=Webhooks]"))


def test_browser_viewer_sees_masked_urls_only(teams, browser):
    from selenium.webdriver.common.by import By

    login_and_open_webhooks(browser, teams, "ana")
    rows = webhook_rows(browser)
    assert {dag for _, dag, _ in rows} == {"ui_alpha"}
    assert not browser.find_elements(By.CSS_SELECTOR, "button.reveal, button.copy")
    assert "key hidden" in rows[("t6ui", "ui_alpha", "github")].text
    assert KEY not in browser.page_source


def send_some_deliveries(stack, dag_id: str) -> None:
    """One delivery of each kind the page colours differently: 204, 401, 404, 409, 200 then 429."""
    base = f"/api/v1/executions/webhook/t6ui/{dag_id}"
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        assert client.post(f"{base}/t6ui-plain-key", json={"go": False}).status_code == 204
        assert client.post(f"{base}/{KEY}", json={"ref": "refs/heads/main"},
                           headers={"x-github-event": "push", "x-hub-signature-256": "sha256=00"}).status_code == 401
        assert client.post(f"{base}/not-the-key", json={}).status_code == 404
        assert client.post(f"{base}/t6ui-off-key", json={}).status_code == 409
        assert [client.post(f"{base}/t6ui-limited-key").status_code for _ in range(2)] == [200, 429]


def test_browser_screenshot_of_the_page(teams, browser, tmp_path):
    from selenium.webdriver.common.by import By

    send_some_deliveries(teams, "ui_alpha")
    deadline = time.monotonic() + 30
    while "429" not in get(teams, f"{PAGE}/dags/ui_alpha", "admin").text and time.monotonic() < deadline:
        time.sleep(0.5)
    browser.set_window_size(1400, 1700)
    login_and_open_webhooks(browser, teams, "admin")
    assert browser.find_elements(By.CSS_SELECTOR, "#deliveries-table tbody tr")
    row = webhook_rows(browser)[("t6ui", "ui_alpha", "github")]
    row.find_element(By.CSS_SELECTOR, "button.reveal").click()
    browser.switch_to.default_content()
    time.sleep(1)
    shot = tmp_path / "webhooks-page.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("WEBHOOK_UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, REPO / "docs" / "webhooks-page.png")
