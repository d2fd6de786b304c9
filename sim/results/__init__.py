"""What a results folder stores, read back with its shape checked (`stored`), and the seal
that ties a sweep's run records to their content and plan (`seal`)."""
