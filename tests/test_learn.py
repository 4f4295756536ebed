"""`minigen learn`: the workbook, its checkers (which must pass minigen's own code and answers
written another way, and catch the mistakes learners make), and bad files.

The checkers are tested in this process (``check_file``: no interpreter start-up); the command
line, the time limit and the process per exercise are tested through ``python -m minigen``.
"""
import os
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest

from minigen.learn import workbook
from minigen.learn.exercises import BY_NAME, EXERCISES

ROOT = Path(__file__).resolve().parents[1]


def minigen_cli(*args, cwd=ROOT, timeout=300):
    """``python -m minigen ARGS`` in a fresh process: (returncode, stdout, stderr)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-m", "minigen", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def solution(name):
    """minigen's reference in the exercise's form: what "copying the reference in" writes."""
    return resources.files("minigen.learn.solutions").joinpath(f"{name}.py").read_text()


def write(directory, name, source):
    path = Path(directory) / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def check_source(tmp_path, name, source):
    """Check ``source`` as the learner's answer to exercise ``name``, in this process."""
    return workbook.check_file(BY_NAME[name], write(tmp_path, name, source))


def snapshot(directory):
    """Every file under ``directory`` with its bytes: what `check` must leave as it was."""
    return {p.relative_to(directory): p.read_bytes() for p in sorted(Path(directory).rglob("*"))}


# ----- the workbook -----
def test_start_writes_a_stub_per_exercise_and_a_readme(tmp_path):
    written, kept = workbook.start(tmp_path / "w")
    assert kept == []
    assert sorted(p.name for p in written) == sorted([f"{e.name}.py" for e in EXERCISES] + ["README.md"])
    text = (tmp_path / "w" / "kl_standard_normal.py").read_text()
    number = [e.name for e in EXERCISES].index("kl_standard_normal") + 1
    assert text.startswith(f'"""Exercise {number} of {len(EXERCISES)}: kl_standard_normal')
    assert "tutorials/05_vae.py" in text and "def kl_standard_normal(mu, log_var):" in text
    assert "NotImplementedError" in text
    readme = (tmp_path / "w" / "README.md").read_text()
    assert readme.index("sigmoid.py") < readme.index("guided_eps.py")


def test_start_never_overwrites_a_file_already_there(tmp_path):
    workbook.start(tmp_path)
    mine = write(tmp_path, "sigmoid", "# my work\n")
    (tmp_path / "sum_to.py").unlink()
    written, kept = workbook.start(tmp_path)
    assert [p.name for p in written] == ["sum_to.py"]
    assert mine.read_text() == "# my work\n" and mine in kept


def test_list_shows_the_exercises_in_order_with_their_progress(tmp_path):
    workbook.start(tmp_path)
    write(tmp_path, "sum_to", solution("sum_to"))
    (tmp_path / "q_sample.py").unlink()
    code, out, err = minigen_cli("learn", "list", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[1] for line in lines[:len(EXERCISES)]] == [e.name for e in EXERCISES]
    status = {line.split()[1]: line for line in lines}
    assert "not started" in status["sigmoid"] and "started" in status["sum_to"]
    assert "not started" not in status["sum_to"] and "missing" in status["q_sample"]


# ----- acceptance: fresh stubs fail, the references pass, nothing is written -----
def test_a_fresh_workbook_fails_every_exercise_as_not_started(tmp_path):
    code, out, err = minigen_cli("learn", "start", tmp_path / "w")
    assert code == 0, err
    results = [workbook.check_file(e, tmp_path / "w" / f"{e.name}.py") for e in EXERCISES]
    assert [r["status"] for r in results] == ["not started"] * len(EXERCISES), results
    code, out, err = minigen_cli("learn", "check", tmp_path / "w", "sigmoid", "gan_losses")
    assert code == 1, err
    lines = out.splitlines()
    assert [line.split()[1] for line in lines[:2]] == ["sigmoid", "gan_losses"]
    assert all("not started" in line for line in lines), out


def test_minigen_s_own_code_passes_every_exercise_and_check_writes_nothing(tmp_path):
    for exercise in EXERCISES:
        write(tmp_path, exercise.name, solution(exercise.name))
    before = snapshot(tmp_path)
    code, out, err = minigen_cli("learn", "check", ".", cwd=tmp_path)      # run from inside the workbook
    assert code == 0, out + err
    assert out.count(" passed ") == len(EXERCISES), out
    assert "compare with minigen's own: minigen/objectives/elbo.py: kl_standard_normal" in out
    assert snapshot(tmp_path) == before, "check changed or added files in the workbook"


# ----- a correct answer written another way passes -----
ANOTHER_WAY = {
    "sigmoid": """
        from minigen.autograd import Function

        class Sigmoid(Function):
            saves_inputs = False
            saves_output = True

            def forward(self, x):
                return 0.5 * (1 + self.xp.tanh(0.5 * x))      # the same function, never overflows

            def backward(self, gy):
                return gy * (self.output - self.output * self.output)
        """,
    "sum_to": """
        def sum_to(grad, shape):
            while grad.ndim > len(shape):
                grad = grad.sum(axis=0)
            for axis, n in enumerate(shape):
                if n == 1 and grad.shape[axis] != 1:
                    grad = grad.sum(axis=axis, keepdims=True)
            return grad
        """,
    "topological_order": """
        def topological_order(roots):
            order, seen = [], set()
            stack = [(root, iter(getattr(root, "parents", ()))) for root in reversed(roots)]
            seen.update(id(root) for root in roots)
            while stack:
                node, parents = stack[-1]
                parent = next((p for p in parents if p is not None and id(p) not in seen), None)
                if parent is None:
                    stack.pop()
                    order.append(node)
                else:
                    seen.add(id(parent))
                    stack.append((parent, iter(getattr(parent, "parents", ()))))
            return order
        """,
    "layer_norm": """
        def layer_norm(x, weight, bias, eps):
            y = (x - x.mean(axis=-1, keepdims=True)) * (x.var(axis=-1, keepdims=True) + eps) ** -0.5
            y = y if weight is None else y * weight
            return y if bias is None else y + bias
        """,
    "gradient_penalty": """
        import minigen as mg

        def gradient_penalty(critic, real, fake, alpha):
            a = alpha.reshape(-1, *[1] * (real.ndim - 1)).detach()
            x_hat = (real.detach() * a + fake.detach() * (1 - a)).detach().requires_grad_()
            (g,) = mg.grad(critic(x_hat).sum(), [x_hat], create_graph=True)
            norms = (g * g).reshape(g.shape[0], -1).sum(axis=1).sqrt()
            return ((norms - 1) * (norms - 1)).mean()
        """,
    "top_k_distribution": """
        import math
        import numpy as np
        import minigen as mg
        import minigen.functional as F

        def top_k_distribution(logits, temperature, k):
            kth = np.sort(logits.data, axis=-1)[..., -k:][..., :1]          # the k-th largest of each row
            kept = mg.where(logits.data >= kth, logits / temperature, -math.inf)
            return F.softmax(kept, axis=-1)
        """,
    "bernoulli_nll": """
        import minigen.functional as F

        def bernoulli_nll(logits, x):
            per_pixel = x * F.softplus(-logits) + (1 - x) * F.softplus(logits)
            return per_pixel.reshape(x.shape[0], -1).sum(axis=1)
        """,
    "gan_losses": """
        import minigen as mg
        import minigen.functional as F

        def discriminator_loss(real_logits, fake_logits):
            real = F.binary_cross_entropy_with_logits(real_logits, mg.ones_like(real_logits))
            return real + F.binary_cross_entropy_with_logits(fake_logits, mg.zeros_like(fake_logits))

        def generator_loss(fake_logits):
            return F.binary_cross_entropy_with_logits(fake_logits, mg.ones_like(fake_logits))
        """,
    "kl_standard_normal": """
        def kl_standard_normal(mu, log_var):
            return -0.5 * (1 + log_var - mu ** 2 - log_var.exp()).sum(axis=1)
        """,
    "reparameterize": """
        def reparameterize(mu, log_var, eps):
            return eps * log_var.exp().sqrt() + mu
        """,
    "iwae_bound": """
        import math

        def iwae_bound(log_w):
            top = log_w.max(axis=0)
            return (log_w - top).exp().sum(axis=0).log() + top - math.log(log_w.shape[0])
        """,
    "causal_attention": """
        import math
        import numpy as np
        import minigen.functional as F

        def causal_attention(q, k, v):
            t, d = q.shape[-2:]
            scores = q @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2) / math.sqrt(d)
            future = np.triu(np.ones((t, t)), 1) * -1e9
            return F.softmax(scores + future, axis=-1) @ v
        """,
    "pixelcnn_mask": """
        import numpy as np

        def pixelcnn_mask(kernel_size, mask_type):
            c = kernel_size // 2
            rows, cols = np.indices((kernel_size, kernel_size))
            return ((rows < c) | ((rows == c) & (cols < c + (mask_type == "B")))).astype(float)
        """,
    "q_sample": """
        def q_sample(x0, alpha_bar, eps):
            if not isinstance(alpha_bar, float):
                alpha_bar = alpha_bar.reshape(-1, *[1] * (x0.ndim - 1))
            return alpha_bar ** 0.5 * x0 + (1 - alpha_bar) ** 0.5 * eps
        """,
    "ddim_step": """
        def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
            ratio = (alpha_bar_prev / alpha_bar_t) ** 0.5
            return ratio * x_t + ((1 - alpha_bar_prev) ** 0.5 - ratio * (1 - alpha_bar_t) ** 0.5) * eps
        """,
    "guided_eps": """
        def guided_eps(eps_cond, eps_uncond, w):
            return eps_cond + w * (eps_cond - eps_uncond)
        """,
}


def test_every_exercise_has_an_answer_written_another_way():
    assert set(ANOTHER_WAY) == set(BY_NAME)


@pytest.mark.parametrize("name", list(ANOTHER_WAY))
def test_a_correct_answer_written_another_way_passes(tmp_path, name):
    result = check_source(tmp_path, name, ANOTHER_WAY[name])
    assert result["status"] == "passed", result["message"]


# ----- the mistakes learners make are caught, with a counterexample -----
MISTAKES = {
    "sigmoid": {
        "backward forgets the (1 - y)": """
            from minigen.autograd import Function

            class Sigmoid(Function):
                saves_output = True

                def forward(self, x):
                    return 1 / (1 + self.xp.exp(-x))

                def backward(self, gy):
                    return gy * self.output
            """,
        "backward ignores gy": """
            from minigen.autograd import Function

            class Sigmoid(Function):
                saves_output = True

                def forward(self, x):
                    return 1 / (1 + self.xp.exp(-x))

                def backward(self, gy):
                    return self.output * (1 - self.output)
            """,
        "forward overflows to nan (e^x / (1 + e^x) at x = 1000)": """
            from minigen.autograd import Function

            class Sigmoid(Function):
                saves_output = True

                def forward(self, x):
                    e = self.xp.exp(x)
                    return e / (1 + e)

                def backward(self, gy):
                    return gy * self.output * (1 - self.output)
            """,
        "backward on raw arrays: no second derivative": """
            import minigen as mg
            from minigen.autograd import Function

            class Sigmoid(Function):
                saves_output = True

                def forward(self, x):
                    return 1 / (1 + self.xp.exp(-x))

                def backward(self, gy):
                    y = self.output.data
                    return gy * mg.tensor(y * (1 - y), dtype=y.dtype)
            """,
    },
    "sum_to": {
        "sums the leading axes only": """
            def sum_to(grad, shape):
                while grad.ndim > len(shape):
                    grad = grad.sum(axis=0)
                return grad
            """,
        "the mean where the sum belongs": """
            def sum_to(grad, shape):
                while grad.ndim > len(shape):
                    grad = grad.mean(axis=0)
                for axis, n in enumerate(shape):
                    if n == 1:
                        grad = grad.mean(axis=axis, keepdims=True)
                return grad
            """,
        "lines the shapes up from the left": """
            def sum_to(grad, shape):
                for axis, n in enumerate(shape):
                    if n == 1:
                        grad = grad.sum(axis=axis, keepdims=True)
                while grad.ndim > len(shape):
                    grad = grad.sum(axis=-1)
                return grad
            """,
        "NumPy arrays: cut off from the graph": """
            import minigen as mg

            def sum_to(grad, shape):
                g = grad.data
                while g.ndim > len(shape):
                    g = g.sum(axis=0)
                for axis, n in enumerate(shape):
                    if n == 1:
                        g = g.sum(axis=axis, keepdims=True)
                return mg.tensor(g, dtype=g.dtype)
            """,
    },
    "topological_order": {
        "recursive: too deep for Python": """
            def topological_order(roots):
                order, seen = [], set()

                def visit(node):
                    if id(node) in seen:
                        return
                    seen.add(id(node))
                    for parent in getattr(node, "parents", ()):
                        if parent is not None:
                            visit(parent)
                    order.append(node)
                for root in roots:
                    visit(root)
                return order
            """,
        "no record of the nodes seen: shared nodes twice": """
            def topological_order(roots):
                order, stack = [], [(root, False) for root in roots]
                while stack:
                    node, done = stack.pop()
                    if done:
                        order.append(node)
                        continue
                    stack.append((node, True))
                    stack += [(p, False) for p in getattr(node, "parents", ()) if p is not None]
                return order
            """,
        "the nodes in the order they were found: outputs first": """
            def topological_order(roots):
                order, seen, stack = [], set(), list(roots)
                while stack:
                    node = stack.pop()
                    if id(node) not in seen:
                        seen.add(id(node))
                        order.append(node)
                        stack += [p for p in getattr(node, "parents", ()) if p is not None]
                return order
            """,
    },
    "layer_norm": {
        "the variance as mean(x^2) - mean(x)^2": """
            def layer_norm(x, weight, bias, eps):
                mean = x.mean(axis=-1, keepdims=True)
                var = (x * x).mean(axis=-1, keepdims=True) - mean * mean
                y = (x - mean) / (var + eps).sqrt()
                y = y if weight is None else y * weight
                return y if bias is None else y + bias
            """,
        "the variance divided by D - 1": """
            def layer_norm(x, weight, bias, eps):
                d = x.shape[-1]
                centred = x - x.mean(axis=-1, keepdims=True)
                var = (centred * centred).sum(axis=-1, keepdims=True) / max(d - 1, 1)
                y = centred / (var + eps).sqrt()
                y = y if weight is None else y * weight
                return y if bias is None else y + bias
            """,
        "eps added outside the square root": """
            def layer_norm(x, weight, bias, eps):
                centred = x - x.mean(axis=-1, keepdims=True)
                y = centred / ((centred * centred).mean(axis=-1, keepdims=True).sqrt() + eps)
                y = y if weight is None else y * weight
                return y if bias is None else y + bias
            """,
    },
    "gradient_penalty": {
        "no create_graph: the critic learns nothing from it": """
            import minigen as mg

            def gradient_penalty(critic, real, fake, alpha):
                a = alpha.reshape(-1, *[1] * (real.ndim - 1))
                x_hat = (a * real + (1 - a) * fake).detach().requires_grad_()
                (g,) = mg.grad(critic(x_hat).sum(), [x_hat])
                norms = (g * g).reshape(g.shape[0], -1).sum(axis=1).sqrt()
                return ((norms - 1) ** 2).mean()
            """,
        "the squared norm where the norm belongs": """
            import minigen as mg

            def gradient_penalty(critic, real, fake, alpha):
                a = alpha.reshape(-1, *[1] * (real.ndim - 1))
                x_hat = (a * real + (1 - a) * fake).detach().requires_grad_()
                (g,) = mg.grad(critic(x_hat).sum(), [x_hat], create_graph=True)
                return (((g * g).reshape(g.shape[0], -1).sum(axis=1) - 1) ** 2).mean()
            """,
        "alpha on the fake side": """
            import minigen as mg

            def gradient_penalty(critic, real, fake, alpha):
                a = alpha.reshape(-1, *[1] * (real.ndim - 1))
                x_hat = (a * fake + (1 - a) * real).detach().requires_grad_()
                (g,) = mg.grad(critic(x_hat).sum(), [x_hat], create_graph=True)
                norms = (g * g).reshape(g.shape[0], -1).sum(axis=1).sqrt()
                return ((norms - 1) ** 2).mean()
            """,
    },
    "top_k_distribution": {
        "the k largest zeroed out of the full softmax, not renormalised": """
            import numpy as np
            import minigen as mg
            import minigen.functional as F

            def top_k_distribution(logits, temperature, k):
                kth = np.sort(logits.data, axis=-1)[..., -k:][..., :1]
                return mg.where(logits.data >= kth, F.softmax(logits / temperature, axis=-1), 0.0)
            """,
        "the temperature applied after the softmax": """
            import math
            import numpy as np
            import minigen as mg
            import minigen.functional as F

            def top_k_distribution(logits, temperature, k):
                kth = np.sort(logits.data, axis=-1)[..., -k:][..., :1]
                p = F.softmax(mg.where(logits.data >= kth, logits, -math.inf), axis=-1) ** (1 / temperature)
                return p
            """,
        "k + 1 tokens kept": """
            import math
            import numpy as np
            import minigen as mg
            import minigen.functional as F

            def top_k_distribution(logits, temperature, k):
                kth = np.sort(logits.data, axis=-1)[..., -k - 1:][..., :1]
                return F.softmax(mg.where(logits.data >= kth, logits / temperature, -math.inf), axis=-1)
            """,
    },
    "bernoulli_nll": {
        "log(sigmoid(l)), which overflows": """
            def bernoulli_nll(logits, x):
                p = logits.sigmoid()
                per_pixel = -(x * p.log() + (1 - x) * (1 - p).log())
                return per_pixel.reshape(x.shape[0], -1).sum(axis=1)
            """,
        "the mean over the pixels where the sum belongs": """
            import minigen.functional as F

            def bernoulli_nll(logits, x):
                per_pixel = x * F.softplus(-logits) + (1 - x) * F.softplus(logits)
                return per_pixel.reshape(x.shape[0], -1).mean(axis=1)
            """,
    },
    "gan_losses": {
        "log(sigmoid(l)), which overflows": """
            def discriminator_loss(real_logits, fake_logits):
                return -real_logits.sigmoid().log().mean() - (1 - fake_logits.sigmoid()).log().mean()

            def generator_loss(fake_logits):
                return -fake_logits.sigmoid().log().mean()
            """,
        "the saturating generator loss": """
            import minigen.functional as F

            def discriminator_loss(real_logits, fake_logits):
                return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

            def generator_loss(fake_logits):
                return -F.softplus(fake_logits).mean()
            """,
        "the sum where the mean belongs": """
            import minigen.functional as F

            def discriminator_loss(real_logits, fake_logits):
                return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()

            def generator_loss(fake_logits):
                return F.softplus(-fake_logits).sum()
            """,
        "real and fake swapped": """
            import minigen.functional as F

            def discriminator_loss(real_logits, fake_logits):
                return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()

            def generator_loss(fake_logits):
                return F.softplus(-fake_logits).mean()
            """,
    },
    "kl_standard_normal": {
        "a missing 1/2": """
            def kl_standard_normal(mu, log_var):
                return (mu * mu + log_var.exp() - 1 - log_var).sum(axis=-1)
            """,
        "a sign": """
            def kl_standard_normal(mu, log_var):
                return 0.5 * (mu * mu + log_var.exp() - 1 + log_var).sum(axis=-1)
            """,
        "the mean over the latent dimensions": """
            def kl_standard_normal(mu, log_var):
                return 0.5 * (mu * mu + log_var.exp() - 1 - log_var).mean(axis=-1)
            """,
        "log_var read as the log of the standard deviation": """
            def kl_standard_normal(mu, log_var):
                return 0.5 * (mu * mu + (2 * log_var).exp() - 1 - 2 * log_var).sum(axis=-1)
            """,
    },
    "reparameterize": {
        "exp(log_var) as the standard deviation": """
            def reparameterize(mu, log_var, eps):
                return mu + log_var.exp() * eps
            """,
        "log_var as the standard deviation": """
            def reparameterize(mu, log_var, eps):
                return mu + log_var * eps
            """,
        "NumPy arrays: no gradient reaches mu and log_var": """
            import numpy as np
            import minigen as mg

            def reparameterize(mu, log_var, eps):
                return mg.tensor(mu.data + np.exp(log_var.data / 2) * eps.data, dtype="float64")
            """,
    },
    "iwae_bound": {
        "log(mean(exp)), which underflows at -1000": """
            def iwae_bound(log_w):
                return log_w.exp().mean(axis=0).log()
            """,
        "a missing log k": """
            import minigen.functional as F

            def iwae_bound(log_w):
                return F.logsumexp(log_w, axis=0)
            """,
        "the mean of the log-weights (the ELBO's average)": """
            def iwae_bound(log_w):
                return log_w.mean(axis=0)
            """,
        "over the wrong axis": """
            import math
            import minigen.functional as F

            def iwae_bound(log_w):
                return F.logsumexp(log_w, axis=1) - math.log(log_w.shape[1])
            """,
    },
    "causal_attention": {
        "a missing 1/sqrt(d)": """
            import math
            import numpy as np
            import minigen as mg
            import minigen.functional as F

            def causal_attention(q, k, v):
                t = q.shape[-2]
                scores = q @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2)
                return F.softmax(mg.where(np.tril(np.ones((t, t), bool)), scores, -math.inf), axis=-1) @ v
            """,
        "the mask shifted by one (t sees t + 1)": """
            import math
            import numpy as np
            import minigen as mg
            import minigen.functional as F

            def causal_attention(q, k, v):
                t, d = q.shape[-2:]
                scores = q @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2) / math.sqrt(d)
                return F.softmax(mg.where(np.tril(np.ones((t, t), bool), 1), scores, -math.inf), axis=-1) @ v
            """,
        "no mask at all": """
            import math
            import minigen.functional as F

            def causal_attention(q, k, v):
                d = q.shape[-1]
                return F.softmax(q @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2) / math.sqrt(d), axis=-1) @ v
            """,
        "a softmax that overflows": """
            import math
            import numpy as np
            import minigen as mg

            def causal_attention(q, k, v):
                t, d = q.shape[-2:]
                scores = q @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2) / math.sqrt(d)
                e = mg.where(np.tril(np.ones((t, t), bool)), scores.exp(), 0.0)
                return e / e.sum(axis=-1, keepdims=True) @ v
            """,
    },
    "pixelcnn_mask": {
        "A and B swapped": """
            import numpy as np

            def pixelcnn_mask(kernel_size, mask_type):
                c = kernel_size // 2
                m = np.ones((kernel_size, kernel_size))
                m[c, c + (mask_type == "A"):] = 0
                m[c + 1:] = 0
                return m
            """,
        "the rows below the centre left open": """
            import numpy as np

            def pixelcnn_mask(kernel_size, mask_type):
                c = kernel_size // 2
                m = np.ones((kernel_size, kernel_size))
                m[c, c + (mask_type == "B"):] = 0
                return m
            """,
        "column order instead of raster order": """
            import numpy as np

            def pixelcnn_mask(kernel_size, mask_type):
                c = kernel_size // 2
                m = np.ones((kernel_size, kernel_size))
                m[c, c + (mask_type == "B"):] = 0
                m[c + 1:] = 0
                return m.T
            """,
    },
    "q_sample": {
        "no square roots": """
            def q_sample(x0, alpha_bar, eps):
                return alpha_bar * x0 + (1 - alpha_bar) * eps
            """,
        "Tensor methods on a Python float": """
            def q_sample(x0, alpha_bar, eps):
                return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
            """,
        "a level per example (B,) not broadcast over the trailing axes": """
            def q_sample(x0, alpha_bar, eps):
                return alpha_bar ** 0.5 * x0 + (1 - alpha_bar) ** 0.5 * eps
            """,
        "x0 and eps swapped": """
            def q_sample(x0, alpha_bar, eps):
                return alpha_bar ** 0.5 * eps + (1 - alpha_bar) ** 0.5 * x0
            """,
    },
    "ddim_step": {
        "the noise re-mixed at level t": """
            def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
                x0 = (x_t - (1 - alpha_bar_t) ** 0.5 * eps) / alpha_bar_t ** 0.5
                return alpha_bar_prev ** 0.5 * x0 + (1 - alpha_bar_t) ** 0.5 * eps
            """,
        "x0 not divided by sqrt(abar_t)": """
            def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
                x0 = x_t - (1 - alpha_bar_t) ** 0.5 * eps
                return alpha_bar_prev ** 0.5 * x0 + (1 - alpha_bar_prev) ** 0.5 * eps
            """,
        "the two levels swapped": """
            def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
                x0 = (x_t - (1 - alpha_bar_prev) ** 0.5 * eps) / alpha_bar_prev ** 0.5
                return alpha_bar_t ** 0.5 * x0 + (1 - alpha_bar_t) ** 0.5 * eps
            """,
    },
    "guided_eps": {
        "the other convention, eps_u + w (eps_c - eps_u)": """
            def guided_eps(eps_cond, eps_uncond, w):
                return eps_uncond + w * (eps_cond - eps_uncond)
            """,
        "a sign": """
            def guided_eps(eps_cond, eps_uncond, w):
                return (1 + w) * eps_cond + w * eps_uncond
            """,
    },
}
CASES = [(name, label) for name, mistakes in MISTAKES.items() for label in mistakes]


def test_every_exercise_has_at_least_two_mistakes_to_catch():
    assert set(MISTAKES) == set(BY_NAME)
    assert all(len(mistakes) >= 2 for mistakes in MISTAKES.values())


@pytest.mark.parametrize("name, label", CASES, ids=[f"{n}: {label}" for n, label in CASES])
def test_a_plausible_mistake_is_caught_with_a_counterexample(tmp_path, name, label):
    result = check_source(tmp_path, name, MISTAKES[name][label])
    assert result["status"] == "failed", f"{name}: the mistake '{label}' passed the check"
    message = result["message"]
    assert "\n" not in message and workbook.report_line(result).split()[1:3] == [name, "FAILED"]
    shows = ("expected" in message and "got" in message) or "cut off from the graph" in message \
        or "differentiated again" in message or "raised" in message or "on the graph x0" in message
    assert shows, f"no counterexample in: {message}"


def test_a_failure_reads_as_the_call_the_expected_and_the_got(tmp_path):
    result = check_source(tmp_path, "kl_standard_normal", MISTAKES["kl_standard_normal"]["a missing 1/2"])
    line = workbook.report_line(result)
    number = [e.name for e in EXERCISES].index("kl_standard_normal") + 1
    assert line.split()[:3] == [str(number), "kl_standard_normal", "FAILED"]
    assert "kl_standard_normal(mu=tensor(" in line and "log_var=tensor(" in line
    assert "expected [" in line and ", got [" in line


def test_the_overflowing_log_sigmoid_is_shown_at_an_extreme_logit(tmp_path):
    result = check_source(tmp_path, "gan_losses", MISTAKES["gan_losses"]["log(sigmoid(l)), which overflows"])
    assert "1000" in result["message"] and "inf" in result["message"], result["message"]


def test_a_float_level_given_to_tensor_methods_says_so(tmp_path):
    result = check_source(tmp_path, "q_sample", MISTAKES["q_sample"]["Tensor methods on a Python float"])
    assert "AttributeError" in result["message"] and "float" in result["message"], result["message"]


# ----- bad files: one line each, the other exercises still checked -----
BAD_FILES = {
    "a syntax error": ("sum_to", "def sum_to(grad, shape)\n    return grad\n", "syntax error on line 1"),
    "a missing function": ("kl_standard_normal", "def kl(mu, log_var):\n    return mu\n",
                           "defines no kl_standard_normal(mu, log_var)"),
    "the wrong signature": ("reparameterize", "def reparameterize(mu, log_var):\n    return mu\n",
                            "wrong signature"),
    "a NumPy array returned": ("guided_eps", "def guided_eps(eps_cond, eps_uncond, w):\n"
                                             "    return (1 + w) * eps_cond.numpy() - w * eps_uncond.numpy()\n",
                               "returned numpy.ndarray, not a minigen Tensor"),
    "the wrong shape": ("iwae_bound", "import minigen.functional as F\n\ndef iwae_bound(log_w):\n"
                                      "    return F.logsumexp(log_w, axis=0, keepdims=True)\n",
                        "expected a Tensor of shape"),
    "an error inside": ("q_sample", "def q_sample(x0, alpha_bar, eps):\n    return x0 @ eps\n", "raised"),
    "not a Function": ("sigmoid", "class Sigmoid:\n    pass\n", "derived from minigen.autograd.Function"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_fails_in_one_line_naming_what_was_wrong(tmp_path, case):
    name, source, says = BAD_FILES[case]
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    result = workbook.check_file(BY_NAME[name], path)
    assert result["status"] == "failed" and says in result["message"], result["message"]
    assert "\n" not in result["message"]


def test_a_function_that_hangs_is_stopped_and_the_others_still_checked(tmp_path):
    write(tmp_path, "q_sample", "def q_sample(x0, alpha_bar, eps):\n    while True:\n        pass\n")
    write(tmp_path, "ddim_step", "import os\n\ndef ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):\n"
                                 "    os._exit(3)\n")
    write(tmp_path, "guided_eps", solution("guided_eps"))
    results = {r["name"]: r for r in workbook.check(tmp_path, ["q_sample", "ddim_step", "guided_eps"],
                                                    time_limit=6)}
    assert results["q_sample"]["status"] == "failed" and "stopped after 6 s" in results["q_sample"]["message"]
    assert results["ddim_step"]["status"] == "failed" and "exit code 3" in results["ddim_step"]["message"]
    assert results["guided_eps"]["status"] == "passed"


def test_check_refuses_an_unknown_exercise_and_a_missing_folder(tmp_path):
    code, out, err = minigen_cli("learn", "check", tmp_path, "softmax")
    assert code == 2 and "unknown exercise(s) softmax" in err
    code, out, err = minigen_cli("learn", "check", tmp_path / "nowhere")
    assert code == 2 and "no such folder" in err
