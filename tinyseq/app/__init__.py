"""The ``tinyseq`` command, an application of the library: ``cli`` (its flags), ``commands`` (what
each subcommand does), ``training`` (the training loop of ``tinyseq train``), ``figures`` (what
``tinyseq graph`` and ``gradflow`` draw), ``tuning`` (what the command changes in its own process
for speed) and ``examples`` (``python -m tinyseq.app.examples.classify`` / ``.dates``).

The library never imports this package (``tests/test_imports.py``), with one exception: the
package's ``__init__`` calls ``tuning`` when the import *is* the command starting, because the BLAS
setting must come before numpy loads. The application imports the library.
"""
