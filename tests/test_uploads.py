"""Checking an upload before it is stored: real type by content, size, a safe display name."""

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from applications import services
from applications.models import Application, Attachment, Policy
from applications.uploads import inspect, safe_name
from tests.factories import PDF_BYTES, ApplicationFactory, complete_application, user_with_role

MB = 1024 * 1024
ALL_KINDS = list(Attachment.Kind)
IMAGE_KINDS = [Attachment.Kind.AGREEMENT, Attachment.Kind.LICENCE, Attachment.Kind.OTHER]
PDF_ONLY_KINDS = [Attachment.Kind.PLAN, Attachment.Kind.AUDIT]


def png_1x1() -> bytes:
    """A real 1x1 RGB PNG, built chunk by chunk."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# The start of a JFIF file (SOI + APP0): what any JPEG from a camera or scanner begins with.
JPEG_HEAD = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
)
# A Windows executable (DOS "MZ" header) and a Linux one (ELF header, 64-bit little endian).
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240
LINUX_ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 100


def upload(data: bytes, name: str = "plan.pdf", content_type: str = "application/pdf"):
    # The browser's content type is whatever the client says: always claim PDF, it must not matter.
    return SimpleUploadedFile(name, data, content_type=content_type)


def pdf_of_size(size: int) -> bytes:
    return PDF_BYTES + b"%" * (size - len(PDF_BYTES))


def refused(data, kind, max_mb=20, name="plan.pdf") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        inspect(upload(data, name), kind, max_mb=max_mb)
    return caught.value


# --- type by content --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_real_pdf_is_accepted_for_every_kind(kind):
    facts = inspect(upload(PDF_BYTES, "建设方案.pdf"), kind, max_mb=20)
    assert facts == {
        "original_name": "建设方案.pdf",
        "content_type": "application/pdf",
        "size": len(PDF_BYTES),
        "sha256": hashlib.sha256(PDF_BYTES).hexdigest(),
    }


def test_the_digest_covers_the_whole_file_not_just_its_head():
    data = pdf_of_size(int(2.5 * MB))  # past the sniffed head and over several read chunks
    same_head = data[:8192] + b"X" * (len(data) - 8192)
    facts = inspect(upload(data), Attachment.Kind.PLAN, max_mb=20)
    assert facts["sha256"] == hashlib.sha256(data).hexdigest()
    assert facts["size"] == len(data)
    assert inspect(upload(same_head), Attachment.Kind.PLAN, max_mb=20)["sha256"] != facts["sha256"]


def test_the_file_is_rewound_for_storage_after_the_check():
    data = pdf_of_size(3 * 8192 + 17)
    f = upload(data)
    inspect(f, Attachment.Kind.PLAN, max_mb=20)
    assert f.read() == data


def test_a_half_read_file_is_checked_from_its_start():
    f = upload(PDF_BYTES)
    f.read(5)
    assert inspect(f, Attachment.Kind.PLAN, max_mb=20)["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()


@pytest.mark.parametrize("data", [WINDOWS_EXE, LINUX_ELF], ids=["exe", "elf"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_an_executable_named_pdf_is_refused(data, kind):
    error = refused(data, kind, name="plan.pdf")
    assert error.code == "wrong_type"
    assert "plan.pdf" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"plain text that is not a PDF\n" * 10,
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<!DOCTYPE html><html><body>hi</body></html>",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 100,  # a zip (or .docx)
        b" %PDF-1.4\n",  # the signature must be at the start
    ],
    ids=["text", "svg", "html", "zip", "late-signature"],
)
def test_other_content_named_pdf_is_refused(data):
    assert refused(data, Attachment.Kind.OTHER).code == "wrong_type"


@pytest.mark.parametrize("kind", PDF_ONLY_KINDS)
def test_a_png_is_refused_where_only_pdf_is_allowed(kind):
    error = refused(png_1x1(), kind, name="scan.png")
    assert error.code == "wrong_type"


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_a_png_is_accepted_where_images_are_allowed(kind):
    data = png_1x1()
    facts = inspect(upload(data, "营业执照.png", "image/png"), kind, max_mb=20)
    assert facts["content_type"] == "image/png"
    assert facts["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_jpeg_is_accepted_for_a_licence_and_refused_for_an_audit_report():
    assert inspect(upload(JPEG_HEAD, "执照.jpg"), Attachment.Kind.LICENCE, max_mb=20)["content_type"] == (
        "image/jpeg"
    )
    assert refused(JPEG_HEAD, Attachment.Kind.AUDIT, name="audit.jpg").code == "wrong_type"


def test_the_type_comes_from_the_content_not_the_name():
    facts = inspect(upload(png_1x1(), "licence.pdf"), Attachment.Kind.LICENCE, max_mb=20)
    assert facts["content_type"] == "image/png"


# --- size -------------------------------------------------------------------------------------------------


def test_an_oversized_file_is_refused():
    error = refused(pdf_of_size(int(1.5 * MB)), Attachment.Kind.PLAN, max_mb=1)
    assert error.code == "too_large"


def test_the_size_limit_is_inclusive():
    exactly = pdf_of_size(1 * MB)
    assert inspect(upload(exactly), Attachment.Kind.PLAN, max_mb=1)["size"] == MB
    assert refused(pdf_of_size(MB + 1), Attachment.Kind.PLAN, max_mb=1).code == "too_large"


def test_an_oversized_executable_is_refused_for_its_size_first():
    error = refused(WINDOWS_EXE + b"\x00" * (2 * MB), Attachment.Kind.PLAN, max_mb=1)
    assert error.code == "too_large"


@pytest.mark.django_db
def test_the_limit_of_the_policy_in_force_applies():
    data = pdf_of_size(int(1.5 * MB))
    assert inspect(upload(data), Attachment.Kind.PLAN, max_mb=Policy.current().attachment_max_mb)
    Policy.objects.create(note="测试：附件上限1MB", attachment_max_mb=1)
    error = refused(data, Attachment.Kind.PLAN, max_mb=Policy.current().attachment_max_mb)
    assert error.code == "too_large"


def test_an_empty_file_is_refused():
    error = refused(b"", Attachment.Kind.PLAN)
    assert error.code == "empty"


# --- display name -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/var/www/uploads/plan.pdf", "plan.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("\\\\server\\share\\dir\\z.pdf", "z.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("a/b\\c.pdf", "c.pdf"),
    ],
)
def test_safe_name_keeps_only_the_last_path_component(given, kept):
    assert safe_name(given) == kept


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("pl\x00an\r\n\t.pdf", "plan.pdf"),
        ("report\x1b[31m.pdf", "report[31m.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override hides the real extension
        ('a<b>c:d"e|f?g*.pdf', "abcdefg.pdf"),
    ],
)
def test_safe_name_removes_control_and_reserved_characters(given, kept):
    assert safe_name(given) == kept


@pytest.mark.parametrize(
    "name",
    ["重庆市制造业创新中心建设方案（2026年）.pdf", "共建协议-第二版.pdf", "营业执照 副本.png"],
)
def test_safe_name_keeps_chinese_names_intact(name):
    assert safe_name(name) == name


@pytest.mark.parametrize("given", ["", None, "..", " . ", "/", "\x00\x01"])
def test_safe_name_never_returns_an_empty_name(given):
    assert safe_name(given)
    assert "/" not in safe_name(given)
    assert "\\" not in safe_name(given)


def test_safe_name_is_at_most_200_characters_and_keeps_the_extension():
    name = safe_name("方" * 300 + ".pdf")
    assert len(name) <= 200
    assert name.endswith(".pdf")


def test_inspect_reports_the_safe_name():
    facts = inspect(upload(PDF_BYTES, "../../secret/建设方案\x00.pdf"), Attachment.Kind.PLAN, max_mb=20)
    assert facts["original_name"] == "建设方案.pdf"


# --- storing accepted uploads (services.add_attachments / remove_attachment) -----------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def accepted(kind, data=PDF_BYTES, name="建设方案.pdf"):
    f = upload(data, name)
    return (kind, f, inspect(f, kind, max_mb=Policy.current().attachment_max_mb))


def stored_files(media_root):
    return sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []


@pytest.mark.django_db
def test_an_accepted_upload_is_stored_under_a_random_name_with_its_facts(media):
    application = ApplicationFactory()
    user = application.created_by
    data = pdf_of_size(20_000)
    [attachment] = services.add_attachments(
        application, user, [accepted(Attachment.Kind.PLAN, data, "../../建设方案 终稿.pdf")]
    )
    attachment = Attachment.objects.get(pk=attachment.pk)
    assert attachment.original_name == "建设方案 终稿.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(data)
    assert attachment.uploaded_by == user
    # The stored path never uses the uploaded name: the application's folder, a random name, the extension.
    assert attachment.file.name.startswith(f"applications/{application.pk}/")
    assert attachment.file.name.endswith(".pdf")
    assert "建设方案" not in attachment.file.name
    with attachment.file.open("rb") as f:
        content = f.read()
    assert content == data
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.django_db
def test_a_new_file_of_a_single_copy_kind_replaces_the_old_one_after_commit(
    media, django_capture_on_commit_callbacks
):
    application = complete_application()
    old = Attachment.objects.get(application=application, kind=Attachment.Kind.PLAN)
    old_path = Path(old.file.path)
    assert old_path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        [new] = services.add_attachments(
            application, application.created_by, [accepted(Attachment.Kind.PLAN, pdf_of_size(999))]
        )
        assert old_path.exists()  # a rolled-back step must not have lost the old file
    assert list(Attachment.objects.filter(application=application, kind=Attachment.Kind.PLAN)) == [new]
    assert not old_path.exists()
    assert Path(new.file.path).exists()


@pytest.mark.django_db
def test_other_evidence_accumulates(media):
    application = ApplicationFactory()
    user = application.created_by
    services.add_attachments(application, user, [accepted(Attachment.Kind.OTHER, name="证明一.pdf")])
    services.add_attachments(application, user, [accepted(Attachment.Kind.OTHER, name="证明二.pdf")])
    names = set(Attachment.objects.filter(application=application).values_list("original_name", flat=True))
    assert names == {"证明一.pdf", "证明二.pdf"}


@pytest.mark.django_db
def test_attachments_cannot_be_added_by_another_unit_or_after_submission(media):
    application = complete_application()
    before = (Attachment.objects.count(), stored_files(media))
    stranger = user_with_role(Role.LEAD_UNIT)
    with pytest.raises(services.ActionRefused):
        services.add_attachments(application, stranger, [accepted(Attachment.Kind.OTHER)])
    assert (Attachment.objects.count(), stored_files(media)) == before

    services.submit(application, application.created_by)
    submitted = Application.objects.get(pk=application.pk)
    before = (Attachment.objects.count(), stored_files(media))
    with pytest.raises(services.ActionRefused):
        services.add_attachments(submitted, application.created_by, [accepted(Attachment.Kind.OTHER)])
    assert (Attachment.objects.count(), stored_files(media)) == before


@pytest.mark.django_db
def test_a_file_cannot_slip_into_a_plan_submitted_meanwhile(media):
    application = complete_application()
    user = application.created_by
    in_the_upload_view = Application.objects.get(pk=application.pk)  # loaded when the request began
    upload_checked = accepted(Attachment.Kind.PLAN, pdf_of_size(5000))
    services.submit(application, user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit))
    plan_before = list(
        Attachment.objects.filter(application=application, kind=Attachment.Kind.PLAN).values_list(
            "pk", "sha256"
        )
    )

    with pytest.raises(services.ActionRefused):
        services.add_attachments(in_the_upload_view, user, [upload_checked])
    plan_after = list(
        Attachment.objects.filter(application=application, kind=Attachment.Kind.PLAN).values_list(
            "pk", "sha256"
        )
    )
    assert plan_after == plan_before


@pytest.mark.django_db
def test_removing_an_attachment_deletes_the_row_and_then_the_file(media, django_capture_on_commit_callbacks):
    application = complete_application()
    attachment = Attachment.objects.get(application=application, kind=Attachment.Kind.AUDIT)
    path = Path(attachment.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_attachment(attachment, application.created_by)
        assert path.exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not path.exists()


@pytest.mark.django_db
def test_attachments_of_a_submitted_plan_cannot_be_removed(media, django_capture_on_commit_callbacks):
    application = complete_application()
    services.submit(application, application.created_by)
    attachment = Attachment.objects.get(application=application, kind=Attachment.Kind.AUDIT)
    path = Path(attachment.file.path)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.ActionRefused):
        services.remove_attachment(attachment, application.created_by)
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert path.exists()
