"""The ``tinyseq`` command, an application of the library: ``cli`` (its flags), ``commands`` (what
each subcommand does), ``training`` (the training loop of ``tinyseq train``), ``figures`` (what
``tinyseq graph`` and ``gradflow`` draw) and ``examples`` (``python -m
tinyseq.app.examples.classify`` / ``.dates``).

The library never imports this package; it imports the library.
"""
