"""Check that a PyTorch checkpoint holds only tensors and plain containers, without
unpickling it: the pickle's opcodes are read, never executed.

A file that passes loads with ``torch.load(..., weights_only=True)``; a file that pickles
whole objects (a model, an agent) names their classes, which the report quotes.
"""

from __future__ import annotations

import io
import pickletools
import zipfile

MAX_PICKLE_BYTES = 16 * 2**20

_PLAIN = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch", "Size"),
    ("torch", "device"),
    ("torch.serialization", "_get_layout"),
}
_STRING_OPS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "SHORT_BINSTRING",
    "BINSTRING",
    "STRING",
}


class CheckpointProblem(Exception):
    """The checkpoint is not a plain torch.save archive of tensors and containers."""


def _allowed(module: str, name: str) -> bool:
    if (module, name) in _PLAIN:
        return True
    # Storage classes (torch.FloatStorage, ...) and dtypes (torch.float32, ...).
    return module == "torch" and (
        name.endswith("Storage")
        or name.startswith(("float", "int", "uint", "bool", "bfloat", "complex"))
    )


def referenced_globals(pickle_bytes: bytes) -> set[tuple[str, str]]:
    """Every (module, name) the pickle would import when loaded."""
    found: set[tuple[str, str]] = set()
    strings: list[str] = []
    try:
        for opcode, argument, _ in pickletools.genops(pickle_bytes):
            if opcode.name in _STRING_OPS:
                strings.append(str(argument))
            elif opcode.name == "STACK_GLOBAL":
                if len(strings) < 2:
                    raise CheckpointProblem("the pickle builds a class name at run time")
                found.add((strings[-2], strings[-1]))
            elif opcode.name in ("GLOBAL", "INST"):
                module, _, name = str(argument).partition(" ")
                found.add((module, name))
    except (ValueError, IndexError) as exc:
        raise CheckpointProblem(f"the pickle inside is malformed ({exc})") from None
    return found


def check_state_dict_checkpoint(data: bytes) -> None:
    """Raise :class:`CheckpointProblem` unless ``data`` is a weights-only torch.save file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CheckpointProblem("it is not a torch.save file (not a zip archive)") from None
    pickles = [info for info in archive.infolist() if info.filename.endswith("data.pkl")]
    if len(pickles) != 1:
        raise CheckpointProblem("it is not a torch.save file (no data.pkl inside)")
    if pickles[0].file_size > MAX_PICKLE_BYTES:
        raise CheckpointProblem("its pickle is implausibly large")
    refused = sorted(
        f"{m}.{n}" for m, n in referenced_globals(archive.read(pickles[0])) if not _allowed(m, n)
    )
    if refused:
        raise CheckpointProblem(
            f"it pickles objects ({', '.join(refused[:4])}); save state_dict()s and plain values "
            "so that it loads with torch.load(..., weights_only=True)"
        )
