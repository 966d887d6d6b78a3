//! `serve` as a Windows service. The service control manager (the manager) starts the process
//! with `serve --windows-service`; [`serve_as_service`] hands the main thread to the manager's
//! dispatcher (`StartServiceCtrlDispatcher`, through the `windows-service` crate), whose service
//! main runs `serve` on the thread the dispatcher gives it and reports the service's states:
//! start pending; running once `serve` listens for signals ([`stops`], after it took the
//! ledger's lock); stop pending when asked to stop; stopped with an exit code.
//!
//! The manager's stop, and the system's shutdown, are sent to every [`stops`] receiver as a
//! signal name, which `serve` treats as Ctrl-C. Stop pending is reported before the signal, so
//! the manager sends no second stop (it refuses controls to a service in a pending state): the
//! second signal, which aborts a `send` at once, never comes from the manager.
//!
//! The dispatcher calls the service main without any context of ours, so what it shares with
//! the caller and the control handler (the work, its exit status, the status handle, the stop)
//! lives in statics: one process runs one service.

use std::ffi::OsString;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{
    self, ServiceControlHandlerResult, ServiceStatusHandle,
};
use windows_service::{define_windows_service, service_dispatcher};
use windows_sys::Win32::Foundation::ERROR_FAILED_SERVICE_CONTROLLER_CONNECT;

use crate::exit::Outcome;
use crate::platform::ServiceError;

/// `serve`, returning its exit status.
pub type Serve = Box<dyn FnOnce() -> i32 + Send>;

/// The name given to the dispatcher. The manager ignores it for a service that has its process
/// to itself, so the service may be installed under any name (the service main is told the
/// real one).
const NAME: &str = "t2t-notify";
/// How long the manager is told a start may take: reading the config and taking the lock.
const START_WAIT: Duration = Duration::from_secs(30);
/// How long the manager is told a stop may take: the messages in flight finish first.
const STOP_WAIT: Duration = Duration::from_secs(60);

static SERVE: Mutex<Option<Serve>> = Mutex::new(None);
static EXIT: Mutex<Option<i32>> = Mutex::new(None);
static STATUS: OnceLock<ServiceStatusHandle> = OnceLock::new();
/// The last state reported, so nothing is reported after stopped (a late stop request).
static REPORTED: Mutex<Option<ServiceState>> = Mutex::new(None);
static RUNNING: AtomicBool = AtomicBool::new(false);
/// The signal name of the stop the manager asked for, once it did.
static STOP: LazyLock<watch::Sender<Option<&'static str>>> =
    LazyLock::new(|| watch::Sender::new(None));

define_windows_service!(ffi_service_main, service_main);

pub fn serve_as_service(serve: Serve) -> Result<i32, ServiceError> {
    *lock(&SERVE) = Some(serve);
    match service_dispatcher::start(NAME, ffi_service_main) {
        // The dispatcher returns once the service reported stopped.
        Ok(()) => Ok(lock(&EXIT).take().unwrap_or(Outcome::Failure.code())),
        Err(windows_service::Error::Winapi(e))
            if e.raw_os_error() == Some(ERROR_FAILED_SERVICE_CONTROLLER_CONNECT as i32) =>
        {
            Err(ServiceError::NotStartedAsService)
        }
        Err(windows_service::Error::Winapi(e)) => Err(ServiceError::Dispatcher(e)),
        Err(e) => Err(ServiceError::Dispatcher(io::Error::other(e))),
    }
}

/// Runs on the dispatcher's thread for the service's whole life.
fn service_main(arguments: Vec<OsString>) {
    let name = arguments.into_iter().next().unwrap_or_else(|| NAME.into());
    let status = match service_control_handler::register(&name, on_control) {
        Ok(status) => status,
        Err(e) => {
            // Nothing can be reported without the handle; ending the process tells the manager.
            tracing::error!("cannot register with the Windows service control manager: {e}");
            std::process::exit(Outcome::Failure.code());
        }
    };
    let _ = STATUS.set(status);
    report(
        ServiceState::StartPending,
        NO_CONTROLS,
        NO_ERROR,
        START_WAIT,
    );
    let serve = lock(&SERVE).take();
    let code = serve.map_or(Outcome::Failure.code(), |serve| serve());
    *lock(&EXIT) = Some(code);
    let asked = STOP.borrow().is_some();
    let exit = exit_code(code, asked);
    tracing::info!(
        "the Windows service stops (serve's exit status {code}; service exit code {exit:?})"
    );
    report(ServiceState::Stopped, NO_CONTROLS, exit, Duration::ZERO);
}

/// The control handler, called by the dispatcher on a thread of its own (never `serve`'s).
fn on_control(control: ServiceControl) -> ServiceControlHandlerResult {
    match answer(control) {
        Answer::Stop(signal) => {
            report(ServiceState::StopPending, NO_CONTROLS, NO_ERROR, STOP_WAIT);
            STOP.send_replace(Some(signal));
            ServiceControlHandlerResult::NoError
        }
        Answer::Acknowledge => ServiceControlHandlerResult::NoError,
        Answer::NotImplemented => ServiceControlHandlerResult::NotImplemented,
    }
}

/// What the control handler does with a control.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// Stop gracefully; the signal name `serve` logs.
    Stop(&'static str),
    /// Nothing to do but say it arrived (an interrogation: the manager keeps the last status).
    Acknowledge,
    NotImplemented,
}

fn answer(control: ServiceControl) -> Answer {
    match control {
        ServiceControl::Stop => Answer::Stop("service stop"),
        ServiceControl::Preshutdown | ServiceControl::Shutdown => Answer::Stop("system shutdown"),
        ServiceControl::Interrogate => Answer::Acknowledge,
        _ => Answer::NotImplemented,
    }
}

/// The service's exit code for `serve`'s exit status: 0 for a stop the manager asked for (also
/// when it came during a pass, which then exits 130 after recording the messages in flight),
/// else the status as the service-specific code (the manager shows it, and a recovery policy
/// can act on it).
fn exit_code(status: i32, stop_asked: bool) -> ServiceExitCode {
    let asked_end =
        status == Outcome::Success.code() || (stop_asked && status == Outcome::Interrupted.code());
    if asked_end {
        NO_ERROR
    } else {
        ServiceExitCode::ServiceSpecific(status as u32)
    }
}

/// The manager's stops as signal names, for [`super::Signals`]. The first call of a service
/// reports it running: `serve` listens for signals once it holds the ledger's lock, and from
/// then on a stop reaches it. A receiver made after the stop sees it at once.
pub(super) fn stops() -> watch::Receiver<Option<&'static str>> {
    let mut stops = STOP.subscribe();
    if stops.borrow().is_some() {
        stops.mark_changed();
    } else if STATUS.get().is_some() && !RUNNING.swap(true, Ordering::SeqCst) {
        let accepted = ServiceControlAccept::STOP
            | ServiceControlAccept::PRESHUTDOWN
            | ServiceControlAccept::SHUTDOWN;
        report(ServiceState::Running, accepted, NO_ERROR, Duration::ZERO);
        tracing::info!(
            "running as a Windows service; stopping it (Stop-Service) stops serve as Ctrl-C does"
        );
    }
    stops
}

const NO_CONTROLS: ServiceControlAccept = ServiceControlAccept::empty();
const NO_ERROR: ServiceExitCode = ServiceExitCode::NO_ERROR;

/// Tells the manager the service's state, unless it was already told the service stopped. A
/// failure is logged: the manager then times the service out, which is all it could do anyway.
fn report(
    state: ServiceState,
    controls_accepted: ServiceControlAccept,
    exit_code: ServiceExitCode,
    wait_hint: Duration,
) {
    let Some(status) = STATUS.get() else {
        return;
    };
    let mut reported = lock(&REPORTED);
    if *reported == Some(ServiceState::Stopped) {
        return;
    }
    let pending = matches!(
        state,
        ServiceState::StartPending | ServiceState::StopPending
    );
    let set = status.set_service_status(ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted,
        exit_code,
        checkpoint: u32::from(pending),
        wait_hint,
        process_id: None,
    });
    match set {
        Ok(()) => *reported = Some(state),
        Err(e) => {
            tracing::error!("cannot report {state:?} to the Windows service control manager: {e}")
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_shutdown_stop_gracefully_an_interrogation_is_acknowledged() {
        assert_eq!(answer(ServiceControl::Stop), Answer::Stop("service stop"));
        assert_eq!(
            answer(ServiceControl::Preshutdown),
            Answer::Stop("system shutdown")
        );
        assert_eq!(
            answer(ServiceControl::Shutdown),
            Answer::Stop("system shutdown")
        );
        assert_eq!(answer(ServiceControl::Interrogate), Answer::Acknowledge);
        assert_eq!(answer(ServiceControl::Pause), Answer::NotImplemented);
        assert_eq!(answer(ServiceControl::ParamChange), Answer::NotImplemented);
    }

    #[test]
    fn an_asked_stop_ends_with_0_anything_else_with_serves_status() {
        assert_eq!(exit_code(0, true), NO_ERROR);
        assert_eq!(exit_code(130, true), NO_ERROR);
        assert_eq!(exit_code(130, false), ServiceExitCode::ServiceSpecific(130));
        assert_eq!(exit_code(1, false), ServiceExitCode::ServiceSpecific(1));
        assert_eq!(exit_code(2, true), ServiceExitCode::ServiceSpecific(2));
    }

    #[test]
    fn outside_a_service_the_stops_never_come() {
        let mut stops = stops();
        assert!(!stops.has_changed().unwrap());
        assert!(stops.borrow_and_update().is_none());
        assert!(!RUNNING.load(Ordering::SeqCst), "nothing to report to");
    }

    #[test]
    fn a_process_not_started_by_the_manager_is_told_so() {
        let ran = serve_as_service(Box::new(|| 0));
        assert!(
            matches!(ran, Err(ServiceError::NotStartedAsService)),
            "{ran:?}"
        );
    }
}
