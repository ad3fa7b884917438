from legacy_app.config import load_config


def test_missing_file_gives_the_fallbacks(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGACY_APP_CONFIG", str(tmp_path / "nope.ini"))
    cfg = load_config()
    assert (cfg.server_port, cfg.server_workers) == (8080, 2)
    assert (cfg.db_host, cfg.db_port, cfg.db_name, cfg.db_user) == (
        "localhost",
        5432,
        "orders",
        "legacy",
    )
    assert cfg.db_password == ""
    assert (cfg.cache_host, cfg.cache_port) == ("localhost", 6379)
    assert cfg.purge_max_age_days == 30


def test_file_overrides_fallbacks_key_by_key(tmp_path, monkeypatch):
    ini = tmp_path / "legacy-app.ini"
    ini.write_text("[database]\nhost = db1.internal\nport = 6432\n[purge]\nmax_age_days = 7\n")
    monkeypatch.setenv("LEGACY_APP_CONFIG", str(ini))
    cfg = load_config()
    assert (cfg.db_host, cfg.db_port) == ("db1.internal", 6432)
    assert cfg.db_name == "orders"
    assert cfg.purge_max_age_days == 7


def test_explicit_path_wins_over_environment(tmp_path, monkeypatch):
    ini = tmp_path / "other.ini"
    ini.write_text("[cache]\nhost = cache1.internal\n")
    monkeypatch.setenv("LEGACY_APP_CONFIG", str(tmp_path / "nope.ini"))
    assert load_config(str(ini)).cache_host == "cache1.internal"
