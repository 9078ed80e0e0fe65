"""Peak dense bf16 FLOP/s by device name, for MFU (the denominator llm.c and nanoGPT use)."""

from __future__ import annotations

# (substring of torch.cuda.get_device_name(), dense bf16 FLOP/s with fp32 accumulation, no sparsity),
# first match wins, so the more specific names come first. Figures: NVIDIA data sheets unless noted.
PEAK_BF16: list[tuple[str, float]] = [
    ("h100 pcie", 756e12),
    ("h100 nvl", 835e12),
    ("gh200", 989e12),
    ("h200", 989e12),  # same compute as the H100 SXM, more and faster memory
    ("h100", 989e12),  # SXM ("NVIDIA H100 80GB HBM3")
    ("b200", 2250e12),
    ("a100", 312e12),  # 40 GB and 80 GB, SXM and PCIe alike
    ("l40s", 362e12),
    ("l40", 181e12),
    ("l4", 121e12),
    ("a10g", 70e12),  # AWS g5: the commonly cited figure, on no NVIDIA data sheet; the A10 is 125e12
    ("a10", 125e12),
    ("rtx 4090", 165e12),  # GeForce: fp32 accumulation runs at half the fp16-accumulate rate
    ("rtx 3090", 71e12),
    ("rtx a6000", 155e12),
]


def peak_flops(device_name: str) -> float | None:
    """Dense bf16 peak of a device by its name; None when it is not in the table."""
    name = device_name.lower().replace("-", " ")
    return next((flops for key, flops in PEAK_BF16 if key in name), None)
