"""Curated catalogs (hardware, models, prices, constants, price index) and their loaders."""

from flopcast.catalogs.hardware import Hardware, HardwareCatalog, bundled_hardware, get_hardware, load_hardware
from flopcast.catalogs.models import ModelCatalog, ModelSpec, bundled_models, get_model, load_models

__all__ = [
    "Hardware",
    "HardwareCatalog",
    "ModelCatalog",
    "ModelSpec",
    "bundled_hardware",
    "bundled_models",
    "get_hardware",
    "get_model",
    "load_hardware",
    "load_models",
]
