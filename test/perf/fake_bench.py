# SPDX-License-Identifier: BSD-3-Clause
"""What the perf scripts' tests share: load a script of this folder as a
module, and run its main() over fakes. Nothing here starts a process or
measures anything."""

import contextlib
import importlib.util
import io
import json
import os
import signal

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    """The script HERE/<name>.py as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_main_patched(module, patches, path):
    """module.main() with its attributes 'patches' replaced (restored after),
    output swallowed and SIGTERM's handler kept: (its status, the JSON it
    wrote to 'path')."""
    saved = {k: getattr(module, k) for k in patches}
    sigterm = signal.getsignal(signal.SIGTERM)  # main() sets its own
    try:
        for k, v in patches.items():
            setattr(module, k, v)
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            status = module.main()
    finally:
        signal.signal(signal.SIGTERM, sigterm)
        for k, v in saved.items():
            setattr(module, k, v)
    with open(path) as f:
        return status, json.load(f)
