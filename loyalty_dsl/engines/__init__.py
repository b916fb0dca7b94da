"""Where members are evaluated: forked local processes, or a Dask cluster."""
