"""The templates' catalogue and previews, for admins, managers and leads: which template has
which channel and language, and any version rendered with fixed, fictitious sample values
(nothing is sent, no complaint is read)."""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.auth import Principal, require_roles
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from notify.bootstrap import DependenciesDep
from notify.messages.domain.template_channels import Channel
from notify.templates_api import service

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Reader = Annotated[Principal, Depends(require_roles("admin", "manager", "lead"))]
# A BCP 47 tag's shape (e.g. zh-CN, en); which ones exist is the catalogue's answer (404).
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"


class ChannelOut(BaseModel):
    channel: Channel
    languages: list[str] = Field(description="Languages this channel's version exists in")


class TemplateOut(BaseModel):
    name: str
    audience: str = Field(description="customer or staff")
    channels: list[ChannelOut]
    languages: list[str] = Field(description="Languages any channel's version exists in")


class TemplateList(BaseModel):
    templates: list[TemplateOut]


class SegmentsOut(BaseModel):
    count: int = Field(description="SMS parts the text is sent as (GSM rule)")
    encoding: str = Field(description="GSM-7 or UCS-2")
    units: int = Field(description="Length in septets (GSM-7) or UTF-16 units (UCS-2)")


class PreviewOut(BaseModel):
    template: str
    language: str
    channel: Channel
    subject: str | None = Field(default=None, description="E-mail: the subject line")
    body: str | None = Field(default=None, description="E-mail: the body")
    text: str | None = Field(default=None, description="SMS: notify's rendering of the text")
    params: dict[str, str] | None = Field(
        default=None, description="SMS: the provider template's parameters"
    )
    segments: SegmentsOut | None = Field(default=None, description="SMS: parts and encoding")
    title: str | None = Field(default=None, description="Robot: the notice's title")
    lines: list[str] | None = Field(default=None, description="Robot: one line per fact")
    severity: str | None = Field(default=None, description="Robot: info, warning or critical")


@router.get("", response_model=TemplateList, summary="Every template with its versions")
async def list_templates(_: Reader, deps: DependenciesDep) -> TemplateList:
    return TemplateList(
        templates=[
            TemplateOut(
                name=t.name,
                audience=t.audience,
                channels=[
                    ChannelOut(channel=c.channel, languages=list(c.languages)) for c in t.channels
                ],
                languages=list(t.languages),
            )
            for t in service.list_templates(renderer=deps.renderer)
        ]
    )


@router.get(
    "/{name}/preview",
    response_model=PreviewOut,
    response_model_exclude_none=True,
    summary="One version of a template rendered with sample values",
    description=(
        "404 for an unknown template, or a channel or language it has no version in (the "
        "problem names those that exist); 422 for a malformed query."
    ),
)
async def preview_template(
    _: Reader,
    deps: DependenciesDep,
    name: Annotated[str, Path(max_length=64)],
    lang: Annotated[str, Query(pattern=LANGUAGE_TAG, max_length=35)] = "zh-CN",
    channel: Annotated[Channel, Query()] = "email",
) -> PreviewOut:
    shown = service.preview(renderer=deps.renderer, template=name, language=lang, channel=channel)
    return PreviewOut(
        template=shown.template,
        language=shown.language,
        channel=shown.channel,
        subject=shown.subject,
        body=shown.body,
        text=shown.text,
        params=shown.params,
        segments=(
            SegmentsOut(
                count=shown.segments.count,
                encoding=shown.segments.encoding,
                units=shown.segments.units,
            )
            if shown.segments
            else None
        ),
        title=shown.title,
        lines=list(shown.lines) if shown.lines is not None else None,
        severity=shown.severity,
    )
