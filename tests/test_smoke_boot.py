def test_login_page_renders_in_finnish(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'lang="fi"' in response.get_data(as_text=True)
