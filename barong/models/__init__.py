"""All models, one module per entity."""
from barong.models.activity import Activity
from barong.models.api_key import APIKey
from barong.models.approval_request import ApprovalRequest
from barong.models.audit_chain import AuditChainHead, AuditVerification
from barong.models.base import iso, utcnow
from barong.models.comment import Comment
from barong.models.data_storage import DataStorage
from barong.models.document import Document
from barong.models.document_decision import DocumentDecision
from barong.models.event import OutboxEvent
from barong.models.known_network import KnownNetwork
from barong.models.kv_entry import KVEntry
from barong.models.label import Label
from barong.models.level import Level
from barong.models.permission import Permission
from barong.models.phone import Phone
from barong.models.profile import PROFILE_STATES, Profile
from barong.models.restriction import Restriction
from barong.models.service_account import ServiceAccount
from barong.models.session import SessionRecord
from barong.models.user import User
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.models.webauthn_credential import WebAuthnCredential

__all__ = [
    "ApprovalRequest",
    "AuditChainHead", "AuditVerification",
    "APIKey", "Activity", "Comment", "DataStorage", "Document", "DocumentDecision", "KVEntry", "KnownNetwork", "Label", "Level", "OutboxEvent",
    "PROFILE_STATES", "Permission", "Phone", "Profile", "Restriction", "ServiceAccount", "SessionRecord",
    "User", "WebhookDelivery", "WebhookEndpoint", "WebAuthnCredential", "iso", "utcnow",
]
