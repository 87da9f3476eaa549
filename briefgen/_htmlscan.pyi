VOID: tuple[str, ...]
PYTHON_TAGS: tuple[str, ...]
URL_ATTRS: tuple[str, ...]

def scan(
    html: str, pos: int, final: bool, stack: list[str], ids: set[str], links: dict[str, None]
) -> tuple[int, int] | tuple[int, int, int, int, int]: ...
