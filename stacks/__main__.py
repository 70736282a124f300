"""Pulumi entry point; the program lives in ``dda_stack`` so that tests can import it."""

import dda_stack

dda_stack.main()
