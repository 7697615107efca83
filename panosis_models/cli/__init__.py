"""The command lines (the ``panosis-*`` console scripts): each parses its arguments and calls
the library, never another command line. Importing this package does nothing: the console
scripts start in ``entry``, which checks for the 'models' extra before a command is imported."""
