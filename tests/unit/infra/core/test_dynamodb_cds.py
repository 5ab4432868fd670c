"""The CDS archive's folder for DynamoDB Local: a class path the JVM can archive, and one folder per jar."""

from __future__ import annotations

import zipfile
from pathlib import Path

from infra.core import dynamodb_cds

MANIFEST = (
    "Manifest-Version: 1.0\r\nMain-Class: example.Main\r\nClass-Path: . log4j2.xml lib/a.jar lib/b\r\n"
    " .jar lib/c.jar\r\nCreated-By: test\r\n\r\n"
)


def _jar(path: Path, manifest: str = MANIFEST) -> Path:
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr(dynamodb_cds.MANIFEST, manifest)
        jar.writestr("example/Main.class", b"\xca\xfe\xba\xbe")
    return path


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    lib = tmp_path / "dist" / "DynamoDBLocal_lib"
    lib.mkdir(parents=True)
    (lib / "b.jar").write_bytes(b"b")
    (lib / "a.jar").write_bytes(b"a")
    classes = tmp_path / "classes"
    classes.mkdir()
    (classes / "LoopbackDynamoDBLocal.class").write_bytes(b"\xca\xfe\xba\xbe")
    return _jar(tmp_path / "dist" / "DynamoDBLocal.jar"), classes


def test_the_copied_jar_has_no_class_path_and_keeps_everything_else(tmp_path: Path) -> None:
    stripped = tmp_path / "stripped.jar"
    dynamodb_cds.strip_class_path(_jar(tmp_path / "original.jar"), stripped)
    with zipfile.ZipFile(stripped) as jar:
        manifest = jar.read(dynamodb_cds.MANIFEST).decode()
        assert jar.read("example/Main.class") == b"\xca\xfe\xba\xbe"
    assert "Class-Path" not in manifest
    assert ".jar" not in manifest  # the header's continuation lines went with it
    assert "Main-Class: example.Main" in manifest
    assert "Created-By: test" in manifest


def test_the_class_path_names_only_jars_and_the_archive_is_made_then_used(tmp_path: Path) -> None:
    jar, classes = _layout(tmp_path)
    layout = dynamodb_cds.prepare(jar, classes, tmp_path / "cache")
    assert all(path.suffix == ".jar" and path.is_file() for path in layout.classpath)
    assert [path.name for path in layout.classpath] == ["launcher.jar", "DynamoDBLocal.jar", "a.jar", "b.jar"]

    training = layout.jvm_options("one")
    assert training == [f"-XX:ArchiveClassesAtExit={layout.partial_archive('one')}"]
    assert not layout.adopt("one")  # the JVM wrote nothing (killed before it could)
    layout.partial_archive("one").write_bytes(b"archive")
    assert layout.adopt("one")
    assert layout.jvm_options("two") == [f"-XX:SharedArchiveFile={layout.archive}"]


def test_another_jar_gets_another_folder(tmp_path: Path) -> None:
    jar, classes = _layout(tmp_path)
    first = dynamodb_cds.prepare(jar, classes, tmp_path / "cache")
    _jar(jar, MANIFEST + "X-Changed: yes\r\n")
    assert dynamodb_cds.prepare(jar, classes, tmp_path / "cache").folder != first.folder
