"""Dataset readers and the data path setting."""
from smartmod.data.paths import DataMissingError, data_path, data_root

__all__ = ["DataMissingError", "data_path", "data_root"]
