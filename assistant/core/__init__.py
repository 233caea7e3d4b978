"""The bottom layer: values, events, errors, settings, paths, prices and text safety shared by every other layer."""
