"""Entry point of the pulumi-dda provider plugin: ``python <this folder> ENGINE_ADDRESS``."""

from pulumi_dda.plugin import main

main()
