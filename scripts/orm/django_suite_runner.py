"""A test runner for Django's suite that also writes each test's outcome,
one JSON object per line, to the file DJANGO_SUITE_RESULTS names:
{"test": id, "outcome": "passed" | "failed" | "error" | "skipped" |
"expected failure" | "unexpected success", "detail": reason or last line}.
Subtests report under their parent's id; a test with any failing subtest
counts as failed."""

import json
import os
import unittest

from django.test.runner import DiscoverRunner


def _last_line(err_text):
    lines = [line for line in err_text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._out = open(os.environ["DJANGO_SUITE_RESULTS"], "a", encoding="utf-8")

    def _record(self, test, outcome, detail=""):
        test_id = test.id() if hasattr(test, "id") else str(test)
        if isinstance(test, unittest.case._SubTest):
            test_id = test.test_case.id()
        self._out.write(json.dumps({"test": test_id, "outcome": outcome,
                                    "detail": detail}) + "\n")
        self._out.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failed", _last_line(self.failures[-1][1]))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", _last_line(self.errors[-1][1]))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            listed = self.failures if failed else self.errors
            self._record(subtest, "failed" if failed else "error",
                         _last_line(listed[-1][1]))

    def stopTestRun(self):
        super().stopTestRun()
        self._out.close()


class RecordingRunner(DiscoverRunner):
    def get_resultclass(self):
        return super().get_resultclass() or RecordingResult
