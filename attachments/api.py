"""Attachment endpoints: list and upload on an incident, metadata, download and removal.

Thin: the serializers parse, `attachments.services` writes, `attachments.selectors` decides
what the user may see (the same rules as the pages; token auth works for downloads too).
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from attachments import selectors, services
from attachments.models import Attachment
from attachments.responses import file_response
from attachments.types import accept_attribute
from incidents.models import Incident
from incidents.selectors import incidents_visible_to
from itsm.api import error_responses

ERRORS = error_responses("attachment")
INCIDENT_ERRORS = error_responses("incident")


class AttachmentSerializer(serializers.ModelSerializer):
    """A file on an incident; `download_url` answers it with the same access rules."""

    incident = serializers.CharField(source="incident.number", read_only=True,
                                     help_text="The incident's number.")
    uploaded_by_name = serializers.SerializerMethodField()
    previewable = serializers.BooleanField(read_only=True,
                                           help_text="An image browsers may show inline.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "incident", "entry", "name", "size", "content_type", "previewable",
                  "internal", "uploaded_by", "uploaded_by_name", "created_at", "download_url"]
        read_only_fields = fields

    def get_uploaded_by_name(self, attachment) -> str:
        return str(attachment.uploaded_by)

    def get_download_url(self, attachment) -> str:
        url = reverse("api:attachment-download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class FileListField(serializers.ListField):
    """Files as repeated multipart parts; one message if a part is not a file (the error body's
    `field_errors` holds lists of strings, not one entry per index)."""

    child = serializers.FileField(allow_empty_file=True, use_url=False)  # sizes: the service

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                raise serializers.ValidationError(
                    "Each `files` part must be a file (send multipart/form-data).") from None
            raise


class AttachmentUploadInput(serializers.Serializer):
    files = FileListField(
        allow_empty=False,
        help_text=f"One or more files (repeat the part). Allowed: {accept_attribute()}.")
    internal = serializers.BooleanField(
        default=False, help_text="With an internal work note, hidden from the caller (agents "
                                 "only).")
    body = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text='The comment or work note posted with the files; empty: "Attached <names>".')


class IgnoreAccept(BaseContentNegotiation):
    """A download is the file whatever the client accepts; errors are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH,
                          description="The incident's number, e.g. INC0001234.")


@extend_schema(tags=["attachments"], parameters=[NUMBER])
class IncidentAttachmentsView(GenericAPIView):
    """The files on one incident, and posting new ones with a comment or work note."""

    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None

    def get_queryset(self):
        return Attachment.objects.none()  # answers are built from the incident below

    def _incident(self, number: str) -> Incident:
        try:
            return incidents_visible_to(self.request.user).get(number=number)
        except Incident.DoesNotExist:
            raise exceptions.NotFound(f"No incident {number[:20]} that you can see.") from None

    def _show(self, attachments, status_code=status.HTTP_200_OK) -> Response:
        data = AttachmentSerializer(attachments, many=True,
                                    context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(summary="Files on an incident visible to you, oldest first",
                   responses={200: AttachmentSerializer(many=True), 404: INCIDENT_ERRORS[404]})
    def get(self, request, number):
        incident = self._incident(number)
        return self._show(selectors.for_incident(incident, request.user))

    @extend_schema(
        summary="Attach files, with a comment or an internal work note",
        description="multipart/form-data: `files` once per file, `internal`, optional `body`. "
                    "Every file is checked (count, size, type by extension and content) "
                    "before any is stored; one bad file refuses them all.",
        request={"multipart/form-data": AttachmentUploadInput},
        responses={201: AttachmentSerializer(many=True), 400: INCIDENT_ERRORS[400],
                   403: INCIDENT_ERRORS[403], 404: INCIDENT_ERRORS[404]})
    def post(self, request, number):
        incident = self._incident(number)  # 404 before 400: don't reveal what cannot be seen
        data = AttachmentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.comment_with_files(incident=incident, by=request.user,
                                            **data.validated_data)
        return self._show(entry.attachment_list, status.HTTP_201_CREATED)


@extend_schema(tags=["attachments"])
class AttachmentViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                        viewsets.GenericViewSet):
    """One attachment by id: its metadata, its file, its removal."""

    serializer_class = AttachmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Attachment.objects.none()
        return selectors.visible_to(self.request.user)

    def get_object(self):
        return selectors.by_id_for(self.request.user, self.kwargs["pk"])

    @extend_schema(summary="One attachment's metadata",
                   responses={200: AttachmentSerializer, 404: ERRORS[404]})
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk=pk)

    @extend_schema(summary="Remove an attachment (its uploader, or an agent working the "
                           "incident)",
                   responses={204: OpenApiResponse(description="Removed."), 403: ERRORS[403],
                              404: ERRORS[404]})
    def destroy(self, request, pk=None):
        services.attachment_delete(attachment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download the file",
        parameters=[OpenApiParameter("inline", bool, description="Images only: show in the "
                                                                 "browser, not as a download.")],
        responses={(200, "application/octet-stream"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The file, with the Content-Type decided at "
                                             "upload."),
                   404: ERRORS[404]})
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAccept)
    def download(self, request, pk=None):
        inline = request.query_params.get("inline") in ("1", "true")
        return file_response(self.get_object(), inline=inline)
