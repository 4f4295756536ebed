"""Before anything is timed: do the contenders compute the same step as minigen?

For each step, every contender starts from the spec's parameters and batch. We compare
with minigen's: the loss, every parameter's gradient, and every parameter after one SGD
update. The error of an array is max|a - b| / max|b| (b = minigen's), so one tolerance fits
gradients of any scale. float32 sums in a different order differ by ~1e-6 relative here;
a wrong formula differs by far more than the tolerance.
"""

TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


class VerificationError(AssertionError):
    """A contender's step does not compute what minigen's does: timing it would mean nothing."""


def relative_error(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.abs(b).max()) if b.size else 0.0
    return float(np.abs(a - b).max()) / scale if scale > 0 else float(np.abs(a - b).max())


def _report(ref_loss, ref_grads, ref_params, loss, grads, params, tolerance):
    grad_err = {k: relative_error(grads[k], g) if k in grads else float("inf") for k, g in ref_grads.items()}
    param_err = {k: relative_error(params[k], p) if k in params else float("inf") for k, p in ref_params.items()}
    loss_err = abs(loss - ref_loss) / max(abs(ref_loss), 1e-30)
    worst = max([loss_err, *grad_err.values(), *param_err.values()])
    return {"loss": loss, "reference_loss": ref_loss, "loss_rel_err": loss_err,
            "max_grad_rel_err": max(grad_err.values()), "worst_grad": max(grad_err, key=grad_err.get),
            "max_param_rel_err": max(param_err.values()), "tolerance": tolerance,
            "passed": worst <= tolerance}


def verify(spec, steps, tolerance=None):
    """steps: {label: step}, freshly built from ``spec``, "minigen" among them (the reference).

    Compares loss and gradients at the spec's parameters, then runs one training step on
    every contender and compares the updated parameters. Raises VerificationError naming the
    contender and its worst parameter when one disagrees; returns {label: report}.
    """
    dtype = str(next(iter(spec.params.values())).dtype)
    tolerance = TOLERANCE[dtype] if tolerance is None else tolerance
    first = {label: step.loss_and_grads() for label, step in steps.items()}
    for step in steps.values():
        step.step()
    after = {label: step.parameters() for label, step in steps.items()}
    ref_loss, ref_grads = first["minigen"]
    reports = {}
    for label in steps:
        if label == "minigen":
            continue
        loss, grads = first[label]
        report = _report(ref_loss, ref_grads, after["minigen"], loss, grads, after[label], tolerance)
        reports[label] = report
        if not report["passed"]:
            raise VerificationError(
                f"{spec.name}: {label} disagrees with minigen (loss {report['loss']:.6g} vs "
                f"{report['reference_loss']:.6g}; worst gradient {report['worst_grad']} rel. error "
                f"{report['max_grad_rel_err']:.2e}; parameters after one step {report['max_param_rel_err']:.2e}; "
                f"tolerance {tolerance:.0e}). Not timing a step that computes something else.")
    return reports
