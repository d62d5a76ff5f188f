"""Pages default to Chinese whatever the browser says; the API follows Accept-Language."""


def test_login_page_is_chinese_even_for_an_english_browser(client, db):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html and "登录" in html


def test_chosen_english_sticks_for_pages(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in html and "Log in" in html


def test_api_messages_follow_accept_language(client, db):
    assert "Log in" in client.get("/api/v1/sites", HTTP_ACCEPT_LANGUAGE="en").json()["message"]
    assert "登录" in client.get("/api/v1/sites", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()["message"]
    assert "登录" in client.get("/api/v1/sites").json()["message"]
