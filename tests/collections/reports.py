"""Bank reports on direct debits, written as a bank would: pain.002 and camt.054."""

from __future__ import annotations

import datetime as dt


def pain002(original_message_id: str, rows: list[tuple[str, str, str]]) -> bytes:
    """A status report: (EndToEndId, TxSts, reason code) per transaction."""
    transactions = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>" if code else "")
        + "</TxInfAndSts>"
        for e2e, status, code in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        f"<GrpHdr><MsgId>STS-{original_message_id}-{len(rows)}</MsgId>"
        "<CreDtTm>2025-03-18T08:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{original_message_id}</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId></OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>X</OrgnlPmtInfId>{transactions}</OrgnlPmtInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()


def camt054(entries: list[tuple[str, str, str, dt.date]]) -> bytes:
    """A notification on the creditor's account: (EndToEndId, amount, return code, day)."""
    body = ""
    for e2e, amount, code, day in entries:
        returned = f"<RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf>" if code else ""
        indicator = "DBIT" if code else "CRDT"
        body += (
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>"
            f'<Amt Ccy="EUR">{amount}</Amt>{returned}</TxDtls></NtryDtls></Ntry>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr>"
        f"<MsgId>NTF-{len(entries)}-{len(body)}</MsgId>"
        "<CreDtTm>2025-03-18T08:00:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>N1</Id>{body}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()
