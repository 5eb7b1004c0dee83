"""The v1 vocabularies of the public contract (docs/contract/). Values are wire names:
never rename one."""

import enum


class Category(enum.StrEnum):
    OFFICER_INVOLVED_SHOOTING = "officer_involved_shooting"
    OFFICER_SERIOUSLY_INJURED = "officer_seriously_injured"
    LINE_OF_DUTY_DEATH = "line_of_duty_death"
    DEATH_OF_COLLEAGUE = "death_of_colleague"
    CHILD_DEATH_OR_SERIOUS_INJURY = "child_death_or_serious_injury"
    MASS_CASUALTY = "mass_casualty"
    VIOLENT_DEATH_SCENE = "violent_death_scene"
    HOSTAGE_OR_BARRICADE = "hostage_or_barricade"
    FATAL_COLLISION = "fatal_collision"
    OTHER_CRITICAL = "other_critical"


class InvolvedRole(enum.StrEnum):
    PRIMARY = "primary"
    ASSISTING = "assisting"
    WITNESS = "witness"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    INVESTIGATOR = "investigator"


class InitiatedBy(enum.StrEnum):
    SCHEDULED_CHECKIN = "scheduled_checkin"
    SELF_REFERRAL = "self_referral"
    PEER_OUTREACH = "peer_outreach"
    COORDINATOR = "coordinator"


class Channel(enum.StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    TEXT = "text"


class DurationBucket(enum.StrEnum):
    LT_15M = "lt_15m"
    M15_30 = "15_30m"
    M30_60 = "30_60m"
    GT_60M = "gt_60m"


class ContactOutcome(enum.StrEnum):
    SUPPORT_PROVIDED = "support_provided"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    FOLLOW_UP_PLANNED = "follow_up_planned"


class ResourceType(enum.StrEnum):
    EAP = "eap"
    CLINICIAN = "clinician"
    CHAPLAIN = "chaplain"
    CRISIS_LINE = "crisis_line"
    SUBSTANCE_USE = "substance_use"
    FAMILY = "family"
    FINANCIAL = "financial"
    LEGAL = "legal"
    OTHER = "other"


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class CheckInOutcome(enum.StrEnum):
    CONTACTED = "contacted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RetractionReason(enum.StrEnum):
    ENTERED_IN_ERROR = "entered_in_error"
    DUPLICATE_INCIDENT = "duplicate_incident"
    NOT_CRITICAL = "not_critical"
    OTHER = "other"


class UnfilledReason(enum.StrEnum):
    NO_ELIGIBLE_SUPPORTER = "no_eligible_supporter"
    ALL_CONFLICTED = "all_conflicted"
    NO_PREFERENCE_MATCH = "no_preference_match"
    NONE_AVAILABLE = "none_available"
    OFFICER_OPTED_OUT = "officer_opted_out"


class AssignmentReason(enum.StrEnum):
    SPECIALTY_MATCH = "specialty_match"
    LANGUAGE_MATCH = "language_match"
    GENDER_PREFERENCE = "gender_preference"
    OUTSIDE_AGENCY_PREFERENCE = "outside_agency_preference"
    BACKGROUND_MATCH = "background_match"
    RANK_PEER = "rank_peer"
    AVAILABLE_NOW = "available_now"
    LEAST_LOADED = "least_loaded"
    REGIONAL_POOL = "regional_pool"
    CARE_FOR_CARER = "care_for_carer"  # the "officer" is a supporter, offered care in turn
    OFFICER_REQUEST = "officer_request"  # the officer asked for a peer (docs/requests.md)


class Reach(enum.StrEnum):
    """How an officer who asks for a peer would like to be reached, this time."""

    CALL = "call"
    TEXT = "text"
    IN_PERSON = "in_person"


class ReassignReason(enum.StrEnum):
    """Why an assignment moved to another supporter."""

    NOT_ACKNOWLEDGED = "not_acknowledged"  # the deadline passed without "I'll reach them"
    COORDINATOR = "coordinator"  # a coordinator gave it to someone else


class EscalationReason(enum.StrEnum):
    """Why an unacknowledged assignment went to the coordinators."""

    MOVES_EXHAUSTED = "moves_exhausted"  # it moved as often as the agency allows
    NO_ONE_LEFT = "no_one_left"  # nobody else fits and is free


class RequestOutcome(enum.StrEnum):
    TAKEN = "taken"  # a supporter acknowledged it
    CANCELLED = "cancelled"  # the officer withdrew it


class ExceptionReason(enum.StrEnum):
    """Why confidentiality was set aside (rule 9): recorded as this code and a
    date, never what was said."""

    IMMINENT_HARM = "imminent_harm"
    MANDATED_REPORTING = "mandated_reporting"
    CONSENT = "consent"
    COURT_ORDER = "court_order"


class NotificationChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    WEBHOOK = "webhook"
    CONSOLE = "console"  # a line in the notify service's log: the local stack's channel


class TrainingArea(enum.StrEnum):
    """The areas a peer supporter is trained in, each with its own expiry."""

    ACTIVE_LISTENING = "active_listening"
    PTSD_DEPRESSION_ANXIETY_SUICIDE = "ptsd_depression_anxiety_suicide"
    CRISIS_DEESCALATION = "crisis_deescalation"
    CONFIDENTIALITY_AND_LAW = "confidentiality_and_law"
    SELF_CARE = "self_care"
