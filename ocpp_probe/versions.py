"""The OCPP versions the probe speaks, and what differs between them on the wire."""

from __future__ import annotations

from enum import Enum

_COMMON_ACTIONS = frozenset(
    """Authorize BootNotification CancelReservation CertificateSigned ChangeAvailability
    ClearCache ClearChargingProfile DataTransfer DeleteCertificate FirmwareStatusNotification
    GetCompositeSchedule GetInstalledCertificateIds GetLocalListVersion GetLog Heartbeat
    InstallCertificate LogStatusNotification MeterValues ReserveNow Reset
    SecurityEventNotification SendLocalList SetChargingProfile SignCertificate
    StatusNotification TriggerMessage UnlockConnector UpdateFirmware""".split()
)

_V16_ACTIONS = _COMMON_ACTIONS | frozenset(
    """ChangeConfiguration DiagnosticsStatusNotification ExtendedTriggerMessage GetConfiguration
    GetDiagnostics RemoteStartTransaction RemoteStopTransaction SignedFirmwareStatusNotification
    SignedUpdateFirmware StartTransaction StopTransaction""".split()
)

_V201_ACTIONS = _COMMON_ACTIONS | frozenset(
    """ClearDisplayMessage ClearVariableMonitoring ClearedChargingLimit CostUpdated
    CustomerInformation Get15118EVCertificate GetBaseReport GetCertificateStatus
    GetChargingProfiles GetDisplayMessages GetMonitoringReport GetReport GetTransactionStatus
    GetVariables NotifyChargingLimit NotifyCustomerInformation NotifyDisplayMessages
    NotifyEVChargingNeeds NotifyEVChargingSchedule NotifyEvent NotifyMonitoringReport
    NotifyReport PublishFirmware PublishFirmwareStatusNotification ReportChargingProfiles
    RequestStartTransaction RequestStopTransaction ReservationStatusUpdate SetDisplayMessage
    SetMonitoringBase SetMonitoringLevel SetNetworkProfile SetVariableMonitoring SetVariables
    TransactionEvent UnpublishFirmware""".split()
)

_V21_ACTIONS = _V201_ACTIONS | frozenset(
    """AFRRSignal AdjustPeriodicEventStream BatterySwap ChangeTransactionTariff ClearDERControl
    ClearTariffs ClosePeriodicEventStream GetCertificateChainStatus GetDERControl
    GetPeriodicEventStream GetTariffs NotifyAllowedEnergyTransfer NotifyDERAlarm
    NotifyDERStartStop NotifyPeriodicEventStream NotifyPriorityCharging NotifySettlement
    NotifyWebPaymentStarted OpenPeriodicEventStream PullDynamicScheduleUpdate
    ReportDERControl RequestBatterySwap SetDERControl SetDefaultTariff UpdateDynamicSchedule
    UsePriorityCharging VatNumberValidation""".split()
)


class OcppVersion(Enum):
    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol name OCPP-J registers for this version."""
        return "ocpp" + self.value

    @classmethod
    def parse(cls, text: str) -> OcppVersion:
        """Accepts '1.6', '2.0.1', '2.1' and the subprotocol spellings 'ocpp1.6', ..."""
        wanted = text.strip().lower()
        if wanted.startswith("ocpp"):
            wanted = wanted[4:]
        for version in cls:
            if version.value == wanted:
                return version
        raise ValueError(text)

    def message_types(self) -> frozenset[int]:
        # CALLRESULTERROR (5) and SEND (6) exist only from OCPP 2.1 on.
        return frozenset({2, 3, 4, 5, 6}) if self is OcppVersion.V21 else frozenset({2, 3, 4})

    def actions(self) -> frozenset[str]:
        """Every action name this version defines, in either direction."""
        if self is OcppVersion.V16:
            return _V16_ACTIONS
        if self is OcppVersion.V201:
            return _V201_ACTIONS
        return _V21_ACTIONS
