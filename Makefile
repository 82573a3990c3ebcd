# neurohybrid: two commands, `make demo` and `make test`, each bootstrapping what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -e -o pipefail -c
PYTHON ?= python3
VENV := .venv
DURATION ?= 60
DEMO ?= lab
QUICK ?= 0
SOAK ?= 0
PYTEST_ARGS ?=
ROS_ENV := source $(VENV)/bin/activate && source install/setup.bash

.PHONY: all venv build stock-tools test demo bench clean

all: build

venv: $(VENV)/.bootstrapped

# Pinned wheels (ROS 2 Kilted, numpy, ...) and the CMake repair of the wheels, idempotent.
$(VENV)/.bootstrapped: requirements.txt tools/fix_ros_cmake.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	mkdir -p log
	$(VENV)/bin/python -m pip install --disable-pip-version-check -r requirements.txt \
		> log/pip-install.txt 2>&1 || { tail -40 log/pip-install.txt; exit 1; }
	$(VENV)/bin/python tools/fix_ros_cmake.py $(VENV)
	touch $@

# colcon build of the one package (messages + Python + executables) into install/.
build: venv
	mkdir -p log && source $(VENV)/bin/activate && \
	AMENT_PREFIX_PATH=$$VIRTUAL_ENV CMAKE_PREFIX_PATH=$$VIRTUAL_ENV \
	colcon --log-base log build --paths . --symlink-install \
		--cmake-args -DPython3_EXECUTABLE=$$VIRTUAL_ENV/bin/python -DBUILD_TESTING=OFF \
		> log/colcon-build.txt 2>&1 || { tail -40 log/colcon-build.txt; exit 1; }
	$(ROS_ENV) && python -m neurohybrid.kernels
	@echo "build: install/ ready (colcon log: log/colcon-build.txt)"

# For the tests only: the stock ROS 2 `launch`/`launch_ros`/`ros2cli` tools, so the suite can prove
# that `ros2 launch` and the stock CLI work with this package. A ROS 2 install that has them is
# used as it is; otherwise ../shared/ros2-stock (where present) installs them into .venv, once.
# With neither, the tests that need them are skipped with that reason.
STOCK_TOOLS ?= ../shared/ros2-stock
STOCK_IMPORTS := import launch, launch_ros, launch_yaml, ros2cli, ros2launch, composition_interfaces

stock-tools: build
	@if $(ROS_ENV) && python -c "$(STOCK_IMPORTS)" 2>/dev/null; then \
		echo "stock-tools: stock ROS 2 launch and CLI importable"; \
	elif [ -x $(STOCK_TOOLS)/install ]; then \
		$(STOCK_TOOLS)/install $(VENV) > log/ros2-stock.txt 2>&1 || { tail -20 log/ros2-stock.txt; exit 1; }; \
		$(ROS_ENV) && python -c "$(STOCK_IMPORTS)"; \
		echo "stock-tools: installed from $(STOCK_TOOLS) into $(VENV)"; \
	else \
		echo "stock-tools: none (no ROS 2 install with them, no $(STOCK_TOOLS)): their tests are skipped"; \
	fi

test: build stock-tools
	$(ROS_ENV) && pytest $(PYTEST_ARGS)

demo: build
	$(ROS_ENV) && neurohybrid demo --kind $(DEMO) --duration $(DURATION)

# Benchmark-only packages (peers, profiler), pinned in requirements-bench.txt; idempotent.
# Then Brian2 (the board benchmark's peer) compiles its cython code once, as pip installs once.
$(VENV)/.bench-deps: requirements-bench.txt $(VENV)/.bootstrapped | build
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt -c requirements.txt
	$(ROS_ENV) && python bench/bench_board.py --compile-peer
	touch $@

bench: build $(VENV)/.bench-deps
	$(ROS_ENV) && python bench/run.py --quick $(QUICK) --soak $(SOAK)

clean:
	rm -rf $(VENV) build install log results .pytest_cache
