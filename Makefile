# Every target does its own set-up: a fresh Debian machine (as root) needs
# nothing prepared. Set-up steps are skipped when what they make is present.

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: test typecheck generate demo bench docs zookeeper kerberos venv clean

test: typecheck zookeeper venv $(VENV)/.gssapi-installed
	$(VPY) -m pytest

# Strict type checking of the package (settings in pyproject.toml's [tool.mypy]).
typecheck: venv
	$(VPY) -m mypy --strict pykeeper

# Rewrite the clients' generated methods (tests/surface fails when they are stale).
generate: venv
	$(VPY) tools/gen_surface.py
	$(VPY) tools/gen_recipes.py

# The documentation site, into build/site; a warning (a broken link, a stale
# reference) fails it. tests/docs builds it too, and runs its examples.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VPY) -m mkdocs build --strict

demo: zookeeper venv
	$(VPY) example/demo.py

bench: zookeeper venv $(VENV)/.bench-installed
	$(VPY) bench/run.py

$(VENV)/.bench-installed: pyproject.toml
	$(VPY) -m pip install -q -e '.[test,bench]'
	touch $@

# Debian's zookeeper package; `apt-get update` only when an install is needed,
# since a fresh machine's package lists may be empty.
zookeeper:
	@if [ -z "$$ZOOKEEPER_CLASSPATH$$ZOOKEEPER_HOME" ] && \
	    ! dpkg-query -W -f='$${Status}' zookeeper 2>/dev/null | grep -q "install ok installed"; then \
		echo "installing Debian's zookeeper package"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper; \
	fi
	@command -v java >/dev/null || { \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless; }
	@# The TLS test servers make their certificates with the openssl command.
	@command -v openssl >/dev/null || { \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl; }

# The GSSAPI tests run a real MIT Kerberos KDC; the gssapi extra builds
# against its headers.
kerberos:
	@command -v krb5-config >/dev/null && command -v kinit >/dev/null && \
	    PATH="$$PATH:/usr/sbin" command -v krb5kdc >/dev/null && \
	    PATH="$$PATH:/usr/sbin" command -v kadmin.local >/dev/null || { \
		echo "installing Debian's MIT Kerberos packages"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		    krb5-kdc krb5-admin-server krb5-user libkrb5-dev gcc; }

$(VENV)/.gssapi-installed: pyproject.toml | kerberos venv
	$(VPY) -m pip install -q -e '.[test,gssapi]'
	touch $@

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,docs]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info pykeeper.egg-info
