"""The file formats an export is written in: each turns batches of cells into bytes (one module per format)."""
