"""The line: machines, buffers, stations, paced lines, sources, the builder and the run."""
