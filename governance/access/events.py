"""The declared audit events: every action the audit log may record, one declaration each.

`Event` values are the strings stored in `audit_log.action`. They must never change: the log is
hash-chained, and rows written before a rename would no longer match their event. Add a member
(with its entry in EVENTS) for a new action; `audit.record` refuses anything not declared here.

EVENTS gives each event its Chinese and English label (the Audit page's action filter) and a
one-line description of when it is recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeGuard


class Event(StrEnum):
    # sign-in and sessions
    LOGIN_SUCCESS = "login.success"
    LOGIN_FAILURE = "login.failure"
    LOGIN_RESUME = "login.resume"
    LOGOUT = "logout"
    # users
    USER_CREATE = "user.create"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_ROLE_CHANGE = "user.role_change"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_UNLOCK = "user.unlock"
    # masking and reveals
    MASKING_POLICY_CHANGE = "masking.policy_change"
    PII_REVEAL = "pii.reveal"
    PII_EXPORT_START = "pii.export_start"
    # sources and ingest
    SOURCE_CREATE = "source.create"
    SOURCE_STEWARD = "source.steward"
    SOURCE_GENDER_ZERO = "source.gender_zero"
    MAPPING_CHANGE = "mapping.change"
    INGEST_BATCH = "ingest.batch"
    # standardization and quality
    STANDARDIZE_RUN = "standardize.run"
    PROFILE_RUN = "profile.run"
    RULE_CREATE = "rule.create"
    RULE_CHANGE = "rule.change"
    # OneID
    ONEID_RESOLVE = "oneid.resolve"
    MATCH_RULE_ENABLE = "match_rule.enable"
    MATCH_RULE_DISABLE = "match_rule.disable"
    REVIEW_APPROVE = "review.approve"
    REVIEW_REJECT = "review.reject"
    REVIEW_UNDO = "review.undo"
    REVIEW_BULK_APPROVE = "review.bulk_approve"
    REVIEW_BULK_REJECT = "review.bulk_reject"
    ONEID_THRESHOLDS_APPLY = "oneid.thresholds_apply"
    # golden records and Customer 360
    GOLDEN_RULE = "golden.rule"
    GOLDEN_OVERRIDE_SET = "golden.override.set"
    GOLDEN_OVERRIDE_REMOVE = "golden.override.remove"
    GOLDEN_OVERRIDE_MOVE = "golden.override.move"
    CUSTOMER_DOWNLOAD = "customer.download"
    # consent
    CONSENT_IMPORT = "consent.import"
    CONSENT_GRANT = "consent.grant"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    CONSENT_EXPIRED = "consent.expired"
    # data-subject requests and suppression
    DSR_CREATE = "dsr.create"
    DSR_LINK = "dsr.link"
    DSR_VERIFY = "dsr.verify"
    DSR_START = "dsr.start"
    DSR_CLOSE = "dsr.close"
    DSR_REJECT = "dsr.reject"
    DSR_ACCESS_PACKAGE = "dsr.access_package"
    DSR_DELETE = "dsr.delete"
    DSR_CORRECT = "dsr.correct"
    DSR_WITHDRAW = "dsr.withdraw"
    DSR_SUPPRESSION_LIFT = "dsr.suppression_lift"
    DSR_SUPPRESSION_PURGE = "dsr.suppression_purge"
    # retention, record of processing, exports, store
    RETENTION_SET = "retention.set"
    RETENTION_REMOVE = "retention.remove"
    RETENTION_APPLY = "retention.apply"
    ROPA_EXPORT = "ropa.export"
    EXPORT_MASKED = "export.masked"
    EXPORT_UNMASKED = "export.unmasked"
    STORE_COMPACT = "store.compact"
    # tags: library
    TAG_SAVE = "tag.save"
    TAG_SUBMIT = "tag.submit"
    TAG_APPROVE = "tag.approve"
    TAG_REJECT = "tag.reject"
    TAG_DEPRECATE = "tag.deprecate"
    TAG_RETIRE = "tag.retire"
    TAG_CATEGORY = "tag.category"
    # tags: source
    TAG_SOURCE_MAPPING = "tag.source_mapping"
    # tags: compute
    TAGS_COMPUTE = "tags.compute"
    # audiences: saved audiences and their snapshots
    AUDIENCE_SAVE = "audience.save"
    AUDIENCE_SNAPSHOT = "audience.snapshot"
    # audiences: activation files, pushes and their destinations
    AUDIENCE_EXPORT = "audience.export"
    AUDIENCE_PUSH = "audience.push"
    DESTINATION_SAVE = "destination.save"
    # API keys and calls to the read API
    API_KEY_ADD = "api_key.add"
    API_KEY_REVOKE = "api_key.revoke"
    API_CALL = "api.call"


@dataclass(frozen=True)
class EventInfo:
    zh: str
    en: str
    description: str


EVENTS: dict[Event, EventInfo] = {
    Event.LOGIN_SUCCESS: EventInfo("登录成功", "Sign-in succeeded", "A password sign-in was accepted."),
    Event.LOGIN_FAILURE: EventInfo("登录失败", "Sign-in failed",
                                   "A password sign-in was refused (unknown user, disabled, locked or wrong password)."),
    Event.LOGIN_RESUME: EventInfo("恢复会话", "Session resumed", "A signed cookie reopened a server-side session."),
    Event.LOGOUT: EventInfo("退出登录", "Signed out", "A user signed out and the session was revoked."),
    Event.USER_CREATE: EventInfo("创建用户", "User created", "An administrator created a user with a role."),
    Event.USER_PASSWORD_RESET: EventInfo("重置密码", "Password reset", "A user's password was reset; their sessions end."),
    Event.USER_ROLE_CHANGE: EventInfo("变更角色", "Role changed", "A user's role was changed."),
    Event.USER_DISABLE: EventInfo("停用用户", "User disabled", "A user was disabled; their sessions end."),
    Event.USER_ENABLE: EventInfo("启用用户", "User enabled", "A disabled user was enabled again."),
    Event.USER_UNLOCK: EventInfo("解锁用户", "User unlocked", "A user locked after failed sign-ins was unlocked."),
    Event.MASKING_POLICY_CHANGE: EventInfo("修改脱敏策略", "Masking policy changed",
                                           "The masking rule of one sensitivity class and role was changed."),
    Event.PII_REVEAL: EventInfo("查看未脱敏数据", "Unmasked data shown",
                                "A user showed unmasked personal data, with a stated reason."),
    Event.PII_EXPORT_START: EventInfo("开始导出未脱敏数据", "Unmasked export started",
                                      "An unmasked export started writing (before its first row, so an interrupted "
                                      "one is on record); export.unmasked follows when it completes."),
    Event.SOURCE_CREATE: EventInfo("新建数据源", "Source created", "A new data source was registered with its channel."),
    Event.SOURCE_STEWARD: EventInfo("指定数据源负责人", "Source steward set", "A source's responsible steward was set."),
    Event.SOURCE_GENDER_ZERO: EventInfo("设置性别代码 0 的含义", "Gender code 0 meaning set",
                                        "The meaning of gender code 0 in a source was set."),
    Event.MAPPING_CHANGE: EventInfo("修改字段映射", "Mapping changed", "A new version of a source's field mapping was saved."),
    Event.INGEST_BATCH: EventInfo("导入批次", "Batch ingested", "A file was stored as a new batch with its mapping."),
    Event.STANDARDIZE_RUN: EventInfo("标准化运行", "Standardization run", "Raw records were standardized into std_records."),
    Event.PROFILE_RUN: EventInfo("质量评估运行", "Quality profile run", "A data-quality profile was computed and scored."),
    Event.RULE_CREATE: EventInfo("新建质量规则", "Quality rule created", "A new quality rule was added."),
    Event.RULE_CHANGE: EventInfo("修改质量规则", "Quality rule changed", "A new version of a quality rule was saved."),
    Event.ONEID_RESOLVE: EventInfo("OneID 识别运行", "OneID resolution run", "Records were matched and OneIDs assigned."),
    Event.MATCH_RULE_ENABLE: EventInfo("启用匹配规则", "Match rule enabled", "A deterministic match rule was enabled."),
    Event.MATCH_RULE_DISABLE: EventInfo("停用匹配规则", "Match rule disabled", "A deterministic match rule was disabled."),
    Event.REVIEW_APPROVE: EventInfo("确认匹配", "Pair approved", "A steward approved a candidate pair as the same person."),
    Event.REVIEW_REJECT: EventInfo("拒绝匹配", "Pair rejected", "A steward rejected a candidate pair as different people."),
    Event.REVIEW_UNDO: EventInfo("撤销审核决定", "Review decision undone", "A review decision on a pair was undone."),
    Event.REVIEW_BULK_APPROVE: EventInfo("批量确认匹配", "Pairs approved in bulk",
                                         "Every undecided review pair in a probability band was approved."),
    Event.REVIEW_BULK_REJECT: EventInfo("批量拒绝匹配", "Pairs rejected in bulk",
                                        "Every undecided review pair in a probability band was rejected."),
    Event.ONEID_THRESHOLDS_APPLY: EventInfo("应用推荐阈值", "Recommended thresholds applied",
                                            "New auto-accept and review thresholds learned from steward decisions "
                                            "were applied and OneIDs resolved again."),
    Event.GOLDEN_RULE: EventInfo("修改存活规则", "Survivorship rule changed",
                                 "A new version of a field's survivorship rule was saved."),
    Event.GOLDEN_OVERRIDE_SET: EventInfo("设置人工覆盖值", "Override set", "A steward set a golden-record value by hand."),
    Event.GOLDEN_OVERRIDE_REMOVE: EventInfo("移除人工覆盖值", "Override removed", "A steward removed a golden-record override."),
    Event.GOLDEN_OVERRIDE_MOVE: EventInfo("迁移人工覆盖值", "Override moved",
                                          "An override followed its person to a new OneID after a merge or split."),
    Event.CUSTOMER_DOWNLOAD: EventInfo("下载客户视图", "Customer 360 downloaded", "A person's masked Customer 360 was downloaded."),
    Event.CONSENT_IMPORT: EventInfo("导入同意记录", "Consent imported",
                                    "Marketing consent found in source records was imported."),
    Event.CONSENT_GRANT: EventInfo("记录同意", "Consent granted", "A person's consent to a purpose was recorded."),
    Event.CONSENT_WITHDRAWN: EventInfo("记录撤回同意", "Consent withdrawn", "A person's withdrawal of consent was recorded."),
    Event.CONSENT_EXPIRED: EventInfo("记录同意过期", "Consent expired", "A person's consent was recorded as expired."),
    Event.DSR_CREATE: EventInfo("新建个人信息请求", "Request created", "A data-subject request was received and logged."),
    Event.DSR_LINK: EventInfo("关联 OneID", "Request linked", "A data-subject request was linked to OneIDs."),
    Event.DSR_VERIFY: EventInfo("核验身份", "Identity verified", "The requester's identity was verified."),
    Event.DSR_START: EventInfo("开始处理请求", "Request started", "Work on a verified data-subject request started."),
    Event.DSR_CLOSE: EventInfo("完成请求", "Request closed", "A data-subject request was closed with a response."),
    Event.DSR_REJECT: EventInfo("拒绝请求", "Request rejected", "A data-subject request was rejected with a response."),
    Event.DSR_ACCESS_PACKAGE: EventInfo("生成查阅包", "Access package built",
                                        "A person's access package was built for an access request."),
    Event.DSR_DELETE: EventInfo("删除个人数据", "Personal data erased",
                                "A person's records were erased and suppressed by tombstones."),
    Event.DSR_CORRECT: EventInfo("更正个人数据", "Personal data corrected", "A correction request changed a person's data."),
    Event.DSR_WITHDRAW: EventInfo("撤回同意请求", "Withdrawal request handled",
                                  "A request to withdraw consent was carried out."),
    Event.DSR_SUPPRESSION_LIFT: EventInfo("解除屏蔽", "Suppression lifted",
                                          "A tombstone's suppression was lifted, with a reason."),
    Event.DSR_SUPPRESSION_PURGE: EventInfo("清除屏蔽记录", "Suppression purged",
                                           "A tombstone's suppressed raw rows were purged."),
    Event.RETENTION_SET: EventInfo("设置保留期限", "Retention policy set", "A retention period was set for a scope."),
    Event.RETENTION_REMOVE: EventInfo("移除保留期限", "Retention policy removed", "A retention policy was removed."),
    Event.RETENTION_APPLY: EventInfo("执行保留策略", "Retention applied", "Records past their retention period were deleted."),
    Event.ROPA_EXPORT: EventInfo("导出处理活动记录", "Record of processing exported",
                                 "The record of processing or the PIPIA stub was exported."),
    Event.EXPORT_MASKED: EventInfo("导出脱敏数据", "Masked export", "A dataset was exported with masking applied."),
    Event.EXPORT_UNMASKED: EventInfo("导出未脱敏数据", "Unmasked export",
                                     "A dataset was exported unmasked, with a stated purpose."),
    Event.STORE_COMPACT: EventInfo("压缩数据库", "Store compacted", "The DuckDB store file was compacted."),
    # tags: library
    Event.TAG_SAVE: EventInfo("保存标签定义", "Tag definition saved",
                              "A new version of a tag definition was saved as a draft, with its reason."),
    Event.TAG_SUBMIT: EventInfo("提交标签审核", "Tag submitted", "A draft tag version was submitted for review."),
    Event.TAG_APPROVE: EventInfo("批准发布标签", "Tag approved",
                                 "A reviewer other than its author approved a tag version, with a comment; it is published."),
    Event.TAG_REJECT: EventInfo("驳回标签", "Tag rejected",
                                "A reviewer other than its author rejected a tag version, with a comment; it is a draft again."),
    Event.TAG_DEPRECATE: EventInfo("弃用标签", "Tag deprecated", "A published tag was deprecated: still computed, not for new use."),
    Event.TAG_RETIRE: EventInfo("下线标签", "Tag retired", "A tag no other tag or audience uses was retired; its values were removed."),
    Event.TAG_CATEGORY: EventInfo("修改标签分类", "Tag category changed",
                                  "An administrator added or changed a tag category and the roles that may view and edit it."),
    # tags: source
    Event.TAG_SOURCE_MAPPING: EventInfo("修改来源标签映射", "Source tag mapping changed",
                                        "A new version of a source column's value mapping onto standard tags was saved."),
    # tags: compute
    Event.TAGS_COMPUTE: EventInfo("计算标签", "Tags computed",
                                  "Customer tag values were computed as of a date, in full or for the changed OneIDs."),
    # audiences: saved audiences and their snapshots
    Event.AUDIENCE_SAVE: EventInfo("保存人群", "Audience saved",
                                   "A new version of a saved audience (rule, purpose, channel, kind) was saved."),
    Event.AUDIENCE_SNAPSHOT: EventInfo("冻结人群快照", "Audience snapshot taken",
                                       "An audience's eligible members were frozen as a snapshot for campaign audit."),
    # audiences: activation files, pushes and their destinations
    Event.AUDIENCE_EXPORT: EventInfo("导出人群激活文件", "Audience activation file exported",
                                     "An audience's eligible members were written to an activation file for a channel and purpose."),
    Event.AUDIENCE_PUSH: EventInfo("推送人群", "Audience pushed",
                                   "An audience's activation file was sent to a destination (webhook or outbox), with its outcome."),
    Event.DESTINATION_SAVE: EventInfo("保存推送目的地", "Push destination saved",
                                      "An administrator added or changed a push destination (webhook or outbox folder)."),
    # API keys and calls to the read API
    Event.API_KEY_ADD: EventInfo("新建 API 密钥", "API key created",
                                 "An administrator created an API key with its role, scopes, expiry and rate limit "
                                 "(only its hash is kept)."),
    Event.API_KEY_REVOKE: EventInfo("吊销 API 密钥", "API key revoked", "An API key was revoked; it is refused at once."),
    Event.API_CALL: EventInfo("API 调用", "API call",
                              "A call to the read API: the key, the endpoint, the status and how many people it "
                              "returned (never the looked-up values)."),
}


def is_declared(action: object) -> TypeGuard[str]:
    """Whether `action` (an Event or a stored string) is a declared event."""
    return isinstance(action, str) and action in Event._value2member_map_


def declared(action: object) -> Event:
    """`action` as its Event; ValueError when it is not declared (audit.record refuses it)."""
    if isinstance(action, Event):
        return action
    if is_declared(action):
        return Event(action)
    raise ValueError(f"{action!r} is not a declared audit event (governance/access/events.py).")


def label(action: str, lang: str = "zh") -> str:
    """An action as the UI shows it in `lang` ("zh" or "en"); an undeclared one as it is stored."""
    if not is_declared(action):
        return str(action)
    info = EVENTS[Event(action)]
    return info.en if lang == "en" else info.zh
