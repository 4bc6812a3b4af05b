"""The chapters' experiments: course_lib's optimizers, schedules and surfaces put together into
what a chapter's figures and widgets show, one module per chapter (like ``exercises`` and
``widgets``): ``gradient_descent``, ``momentum``, ``adaptive``, ``initialization``, ``batchnorm``,
``regularization``. The theory they are compared
with lives in the core modules (:mod:`course_lib.quadratic_theory`), not here. For example::

    from course_lib.experiments import momentum
    runs = momentum.momentum_race(surfaces.quadratic(50), x0=(-2.0, 1.5), steps=100, lr=1.0, momentum=0.9)
"""
