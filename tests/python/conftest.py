import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "postprocess"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # tests/h5same.py
