"""pulumi-dda."""
