"""How good are the samples? Numbers computed on the host with NumPy, from samples alone.

A generative model has no accuracy to report. These metrics compare what it draws with
what the data looks like, each with a floor: the value two independent sets of *true*
samples get, which is what "perfect" looks like at this sample size.

    mode_coverage       8gaussians: share of high-quality samples and modes covered
    energy_distance     any 2-D data: a distance between two sets of points (0 iff same law)
    frechet_distance    images: distance between Gaussians fitted to classifier features (FID's recipe)
    class_statistics    images: does a classifier see every class, and is it sure?
    label_accuracy      conditional images: does it see the class each sample was asked for?
"""
import numpy as np


def mode_coverage(samples, centers, std, sigmas=3.0, min_share=0.01):
    """High-quality samples and modes covered, for a mixture of Gaussians with known centres.

    A sample is high quality when it lies within ``sigmas`` standard deviations of its
    nearest centre (3 x 0.02 = 0.06 for 8gaussians); a mode is covered when at least
    ``min_share`` of all samples are high-quality samples of it (1% of 2,500 = 25).

    Returns {"modes": int, "hq_share": float, "per_mode": [share of samples per centre]}.
    """
    samples = np.asarray(samples, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)   # (N, K)
    nearest = distances.argmin(axis=1)
    good = distances.min(axis=1) <= sigmas * std
    per_mode = np.bincount(nearest[good], minlength=len(centers)) / len(samples)
    return {"modes": int((per_mode >= min_share).sum()), "hq_share": float(good.mean()),
            "per_mode": [round(float(s), 4) for s in per_mode]}


def _mean_pairwise_distance(a, b, chunk=1024):
    """mean over all pairs (i, j) of ||a_i - b_j||, in chunks (never an N x M x D array)."""
    total = 0.0
    for start in range(0, len(a), chunk):
        block = a[start:start + chunk]
        squared = (block * block).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * block @ b.T
        total += np.sqrt(np.maximum(squared, 0.0)).sum()
    return total / (len(a) * len(b))


def energy_distance(x, y):
    """The (squared) energy distance 2 E||X - Y|| - E||X - X'|| - E||Y - Y'|| between samples.

    It is >= 0 and, for the true laws, 0 only when they are equal (Szekely & Rizzo). With
    samples every expectation is the mean over all pairs (the V-statistic, so the value is
    never negative); two independent samples of the same law of size N give O(1/N), the floor.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    return float(2 * _mean_pairwise_distance(x, y) - _mean_pairwise_distance(x, x)
                 - _mean_pairwise_distance(y, y))


def _sqrt_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix (via eigh)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a, features_b):
    """||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)): the Frechet (2-Wasserstein)
    distance between the Gaussians fitted to two sets of feature vectors (FID's formula).

    tr((S_a S_b)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the
    symmetric matrix S_a^(1/2) S_b S_a^(1/2), which has the same eigenvalues, all >= 0.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrt_psd(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def class_statistics(probs, num_classes=None):
    """A classifier's view of a set of samples, from its class probabilities (N, C).

    class_entropy:   entropy (nats) of the histogram of predicted classes; ln C when every
                     class is predicted equally often, 0 when one class takes all (mode collapse)
    mean_confidence: the mean of the largest probability (do the samples look like *some* class?)
    classes_found:   how many classes are predicted at least once
    """
    probs = np.asarray(probs, dtype=np.float64)
    num_classes = probs.shape[1] if num_classes is None else num_classes
    counts = np.bincount(probs.argmax(1), minlength=num_classes)
    share = counts / counts.sum()
    nonzero = share[share > 0]
    return {"class_entropy": float(-(nonzero * np.log(nonzero)).sum()),
            "mean_confidence": float(probs.max(1).mean()),
            "classes_found": int((counts > 0).sum()),
            "class_histogram": [int(c) for c in counts]}


def label_accuracy(probs, labels, num_classes):
    """Samples asked for a class: does the classifier see that class in them?

    ``probs`` (N, C): the classifier's probabilities for N samples; ``labels`` (N,): the class
    each sample was asked for. For each class asked for, the share of its samples whose most
    probable class is that class: a list, in class order (the mean is ``label_accuracy``).
    """
    labels = np.asarray(labels)
    hits = np.asarray(probs).argmax(axis=1) == labels
    return [float(hits[labels == k].mean()) for k in range(num_classes) if (labels == k).any()]
