# Two entry points (see README):
#   make render   install modeldash and render the bundled example fleet into ./out
#   make test     install everything the tests need (Python packages, Debian's prometheus,
#                 alertmanager, pushgateway, postgresql, chromium and kubectl when missing) and run the whole suite
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBIAN_PACKAGES := prometheus prometheus-alertmanager prometheus-pushgateway postgresql rsync chromium

.PHONY: render install test system-deps

install:
	$(PYTHON) -m pip install -q .

render: install
	modeldash render

system-deps:
	@missing=""; \
	for bin in prometheus promtool amtool prometheus-pushgateway rsync; do command -v $$bin >/dev/null || missing=1; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing=1; \
	[ -x /usr/bin/chromium ] || missing=1; \
	command -v kubectl >/dev/null || extra=kubernetes-client; \
	if [ -n "$$missing$$extra" ]; then \
	  echo "installing Debian packages: $(DEBIAN_PACKAGES) $$extra"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) $$extra >/dev/null; \
	fi

test: system-deps
	$(PYTHON) -m pip install -q -e '.[test]'
	$(PYTHON) -m pytest -q -p no:cacheprovider
