"""The hazard log (docs/safety/hazards/) read, checked against the tests, and reported.

A test proves a control by carrying `@pytest.mark.hazard("HZ-04")`; the log names that test
under the control. `tests/test_safety_case.py` fails when the two disagree, and
`make safety` prints the log beside each proving test's latest result.
"""
