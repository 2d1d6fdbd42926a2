"""The catalogue of registered problems: a workload, a space and evaluators joined, one module
per family (registered lazily in :mod:`codesign.builtins`).

- :mod:`~codesign.problems.digits` — ``digits-accel`` (the default) and ``digits-accel-small``:
  the digits CNN's bits × accelerator, roofline model + real digits probe;
- :mod:`~codesign.problems.accel` — ``resnet18-accel(-flat)``, ``mixtral-accel``: the loop-nest
  cost model alone, at fixed 8-bit precision (no accuracy model exists for those weights, so
  they search no bits);
- :mod:`~codesign.problems.flagship` — ``fmnist-accel``, ``moe-accel``, ``minilm-accel``,
  ``gemma-accel`` and their ``-flat`` forms: a real model's per-layer / per-expert bits ×
  PE family, array, buffers × mappings, scored in one evaluation by the cost model and the real
  probe of the same model at the same bits;
- :mod:`~codesign.problems.fidelity` — multi-fidelity accuracy for those problems.

Problems may import ``evaluators``, ``spaces``, ``workloads`` and ``allocation``; nothing below
imports them (``evaluators`` keeps only scoring).
"""
