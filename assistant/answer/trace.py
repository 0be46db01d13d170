"""The decision codes every answer step leaves in ``Answer.trace``.

A step appends ``Decision(step, code, detail)``: the step's name, an enum code (what it did;
the log, the eval report and the UI read these) and a short detail for people. Codes are
never matched by substring.
"""

from __future__ import annotations

from enum import StrEnum

from assistant.types import Decision


class Step(StrEnum):
    INPUT = "input"
    FRAME = "frame"
    ROUTE = "route"
    RECORDS = "records"
    RETRIEVE = "retrieve"
    EVIDENCE = "evidence"
    GATE = "gate"
    GENERATE = "generate"
    MARKERS = "markers"
    VERIFY = "verify"
    RECOVER = "recover"
    LANGUAGE = "language"
    RENUMBER = "renumber"
    FINISH = "finish"


class Code(StrEnum):
    # input: the edge policy on the question and the history
    INPUT_OK = "INPUT_OK"
    INPUT_EMPTY = "INPUT_EMPTY"
    INPUT_BINARY = "INPUT_BINARY"
    INPUT_TRUNCATED = "INPUT_TRUNCATED"
    INPUT_CONTROL_REMOVED = "INPUT_CONTROL_REMOVED"
    INPUT_INJECTION_REMOVED = "INPUT_INJECTION_REMOVED"
    INPUT_HISTORY_TRIMMED = "INPUT_HISTORY_TRIMMED"
    # frame: the question parsed once
    FRAME_LANG = "FRAME_LANG"
    FRAME_OTHER_LANGUAGE = "FRAME_OTHER_LANGUAGE"
    FRAME_KINDS = "FRAME_KINDS"
    FRAME_FOLLOWUP = "FRAME_FOLLOWUP"
    # route: structured records, prose, or both
    ROUTE_PROSE = "ROUTE_PROSE"
    ROUTE_RECORDS = "ROUTE_RECORDS"
    ROUTE_BOTH = "ROUTE_BOTH"
    QUERY_RULES = "QUERY_RULES"
    QUERY_LLM = "QUERY_LLM"
    QUERY_READING = "QUERY_READING"
    QUERY_LLM_REJECTED = "QUERY_LLM_REJECTED"
    RECORDS_ANSWERED = "RECORDS_ANSWERED"
    RECORDS_EMPTY = "RECORDS_EMPTY"
    # retrieve / evidence
    RETRIEVED = "RETRIEVED"
    EVIDENCE_SELECTED = "EVIDENCE_SELECTED"
    EVIDENCE_PART_ADDED = "EVIDENCE_PART_ADDED"
    EVIDENCE_OTHER_ROW_SKIPPED = "EVIDENCE_OTHER_ROW_SKIPPED"
    EVIDENCE_INSTRUCTION_SKIPPED = "EVIDENCE_INSTRUCTION_SKIPPED"
    # gate: refuse before generating
    GATE_PASS = "GATE_PASS"
    GATE_LOW_SCORE = "GATE_LOW_SCORE"
    GATE_CONSTRAINT_ABSENT = "GATE_CONSTRAINT_ABSENT"
    GATE_KIND_ABSENT = "GATE_KIND_ABSENT"
    # generate
    GENERATED = "GENERATED"
    GENERATED_NOT_FOUND = "GENERATED_NOT_FOUND"
    GENERATED_EXTRACTIVE = "GENERATED_EXTRACTIVE"
    # markers
    MARKERS_OK = "MARKERS_OK"
    MARKER_UNRESOLVED = "MARKER_UNRESOLVED"
    SENTENCE_UNCITED = "SENTENCE_UNCITED"
    # verify: what each sentence claims, against its cited passages
    CLAIM_VERIFIED = "CLAIM_VERIFIED"
    CLAIM_PARTIAL = "CLAIM_PARTIAL"
    CLAIM_UNSUPPORTED = "CLAIM_UNSUPPORTED"
    CLAIM_RECITED = "CLAIM_RECITED"
    # recover: at most one more generation, else drop or quote
    RECOVER_NONE = "RECOVER_NONE"
    RECOVER_RETRY = "RECOVER_RETRY"
    RECOVER_DROPPED = "RECOVER_DROPPED"
    RECOVER_QUOTED = "RECOVER_QUOTED"
    RECOVER_REFUSED = "RECOVER_REFUSED"
    STREAM_RESET = "STREAM_RESET"
    # language
    LANGUAGE_OK = "LANGUAGE_OK"
    LANGUAGE_FALLBACK = "LANGUAGE_FALLBACK"
    # renumber / finish
    RENUMBERED = "RENUMBERED"
    ANSWERED = "ANSWERED"
    REFUSED = "REFUSED"
    SKIPPED = "SKIPPED"


def decision(step: Step, code: Code, detail: str = "") -> Decision:
    return Decision(step=step.value, code=code.value, detail=detail[:300])
