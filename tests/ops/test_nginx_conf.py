"""The shipped nginx configuration (deploy/nginx/nginx.conf) is valid nginx."""

from __future__ import annotations

from pathlib import Path

from tests.support.cluster import nginx_test, render_nginx_conf


def test_shipped_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    # Only the port and the upstream's servers change: `api:10000` resolves inside Docker only.
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(18080, ["127.0.0.1:10001", "127.0.0.1:10002"]))
    checked = nginx_test(conf, tmp_path / "nginx.pid")
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_a_broken_nginx_config_fails_nginx_t(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(18080, ["127.0.0.1:10001"]).replace("proxy_pass", "pass"))
    checked = nginx_test(conf, tmp_path / "nginx.pid")
    assert checked.returncode != 0
    assert "unknown directive" in checked.stderr
