//! A client of a running console's API, speaking its typed wire format ([`console::api`]):
//! what `rollcall ctl` and the demo use.

use std::path::Path;

use console::View;
use console::api::{Done, Failure, MakeUpList, Recorded};
use session::Command;

use crate::{Error, Result};
use bilingual::Text;

fn unreachable(e: ureq::Error) -> Error {
    Error::invalid(
        Text::new("控制台没有响应", "the console does not answer"),
        e,
    )
}

fn not_understood(path: &str, e: &ureq::Error) -> Error {
    Error::invalid(
        Text::new(
            format!("控制台对 {path} 的回答无法理解"),
            format!("the console's answer to {path} is not understood"),
        ),
        e,
    )
}

/// A client of a running console's API (what `rollcall ctl` and the demo use).
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
    csrf: String,
}

impl Client {
    /// Finds the console of the session in `data` (`console.json`) and asks for its CSRF token.
    pub fn connect(data: &Path) -> Result<Client> {
        let info = crate::console::read_info(data)?;
        let base = info.base.trim_end_matches('/').to_string();
        let cookie = info.token.map(|t| format!("rollcall_token={t}"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        let mut client = Client {
            agent,
            base,
            cookie,
            csrf: String::new(),
        };
        let response = client.get("/api/state")?;
        client.csrf = response
            .headers()
            .get("x-rollcall-csrf")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(client)
    }

    fn get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        req.call().map_err(unreachable)
    }

    /// The console's view (`/api/state`).
    pub fn state(&self) -> Result<View> {
        self.get_json("/api/state")
    }

    /// The school's make-up list (`/api/make-up`).
    pub fn make_up(&self) -> Result<MakeUpList> {
        self.get_json("/api/make-up")
    }

    /// The camera's status (`/api/camera`).
    pub fn camera(&self) -> Result<tether::Status> {
        self.get_json("/api/camera")
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get(path)?
            .body_mut()
            .read_json()
            .map_err(|e| not_understood(path, &e))
    }

    /// An operator command (`/api/command`); the answer holds the journal line.
    pub fn command(&self, command: &Command) -> Result<Recorded> {
        self.post("/api/command", command)
    }

    /// Presses the shutter of the tethered camera (`/api/trigger`).
    pub fn trigger(&self) -> Result<Done> {
        self.post("/api/trigger", &())
    }

    /// A POST; an error carries the console's message in Chinese and English.
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("x-rollcall-csrf", &self.csrf);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let mut response = req.send_json(body).map_err(unreachable)?;
        let status = response.status();
        if status.is_success() {
            return response
                .body_mut()
                .read_json()
                .map_err(|e| not_understood(path, &e));
        }
        match response.body_mut().read_json::<Failure>() {
            Ok(Failure { error }) => Err(Error::Refused(error.text)),
            Err(_) => Err(Error::refused(
                format!("控制台拒绝了请求（HTTP {status}）"),
                format!("the console refused the request (HTTP {status})"),
            )),
        }
    }
}
