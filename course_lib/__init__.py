"""course_lib: the tested implementations behind the book "Optimizing and Regularizing Neural Networks".

One idea per module: ``ewma`` (moving averages), ``optim`` (optimizers), ``schedules``
(learning-rate schedules), ``surfaces`` (test functions and runs), ``nn`` (layers), ...
Chapters import from here; the exercises' checkers compare students' code against it.
Import the submodules you need (``from course_lib.ewma import ewma``): nothing heavy is
imported at package level.
"""
__version__ = "0.1.0"
