//! Where events live: the [`DoraStore`] trait (one partition per tenant and environment,
//! queried by [`Window`]) and its default, [`InMemoryDoraStore`]. A service backs the trait
//! with its database; the validation and duplicate rules are shared helpers on the events
//! ([`DeploymentEvent::first_difference`], [`IncidentEvent::apply`]) so every store agrees.

use crate::error::{DoraError, EventKind, ValidationError};
use crate::event::{DeploymentEvent, IncidentEvent, IncidentUpdate};
use crate::window::{Scope, Window};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use stellaops_telemetry_model::sync::{read, write};

/// What an insert or update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recorded {
    /// The event (or change) is new and was stored.
    New,
    /// An identical event (or the same change) was already stored; nothing changed.
    Unchanged,
}

/// Storage for DORA events, partitioned by tenant and environment.
///
/// Implementations must: validate events ([`DeploymentEvent::validate`],
/// [`IncidentEvent::validate`]); treat an id already present in the partition as
/// [`Recorded::Unchanged`] when the event is identical and as
/// [`ValidationError::ConflictingDuplicate`] otherwise; apply incident updates with
/// [`IncidentEvent::apply`] atomically; and select events by the rules of [`Window`]
/// (deployments by `deployedAt`, incidents by `startedAt`).
pub trait DoraStore: Send + Sync + std::fmt::Debug {
    /// Stores a deployment.
    ///
    /// # Errors
    /// Validation errors, a conflicting duplicate, or a store failure.
    fn insert_deployment(&self, deployment: &DeploymentEvent) -> Result<Recorded, DoraError>;

    /// Stores an incident.
    ///
    /// # Errors
    /// Validation errors, a conflicting duplicate, or a store failure.
    fn insert_incident(&self, incident: &IncidentEvent) -> Result<Recorded, DoraError>;

    /// Acknowledges or resolves a stored incident, returning what changed and the incident as
    /// stored afterwards.
    ///
    /// # Errors
    /// [`ValidationError::UnknownIncident`], the errors of [`IncidentEvent::apply`], or a store
    /// failure.
    fn update_incident(
        &self,
        tenant: &str,
        environment: &str,
        incident_id: &str,
        update: IncidentUpdate,
    ) -> Result<(Recorded, IncidentEvent), DoraError>;

    /// The deployments of `scope` deployed in `window`, ordered by (`deployedAt`, id).
    ///
    /// # Errors
    /// A store failure.
    fn deployments(
        &self,
        scope: &Scope,
        window: &Window,
    ) -> Result<Vec<DeploymentEvent>, DoraError>;

    /// The incidents of `scope` started in `window`, ordered by (`startedAt`, id).
    ///
    /// # Errors
    /// A store failure.
    fn incidents(&self, scope: &Scope, window: &Window) -> Result<Vec<IncidentEvent>, DoraError>;

    /// Calls `visit` for each deployment [`deployments`](Self::deployments) would return,
    /// without collecting them. The default collects first; stores override it to stream.
    ///
    /// # Errors
    /// A store failure.
    fn visit_deployments(
        &self,
        scope: &Scope,
        window: &Window,
        visit: &mut dyn FnMut(&DeploymentEvent),
    ) -> Result<(), DoraError> {
        self.deployments(scope, window)?.iter().for_each(visit);
        Ok(())
    }

    /// Calls `visit` for each incident [`incidents`](Self::incidents) would return.
    ///
    /// # Errors
    /// A store failure.
    fn visit_incidents(
        &self,
        scope: &Scope,
        window: &Window,
        visit: &mut dyn FnMut(&IncidentEvent),
    ) -> Result<(), DoraError> {
        self.incidents(scope, window)?.iter().for_each(visit);
        Ok(())
    }

    /// The environments of `tenant` that hold at least one event, sorted.
    ///
    /// # Errors
    /// A store failure.
    fn environments(&self, tenant: &str) -> Result<Vec<String>, DoraError>;
}

#[derive(Debug, Default)]
struct Partition {
    deployments: BTreeMap<(DateTime<Utc>, String), DeploymentEvent>,
    deployment_times: HashMap<String, DateTime<Utc>>,
    incidents: BTreeMap<(DateTime<Utc>, String), IncidentEvent>,
    incident_times: HashMap<String, DateTime<Utc>>,
}

impl Partition {
    fn deployments_in<'a>(
        &'a self,
        window: &Window,
    ) -> impl Iterator<Item = &'a DeploymentEvent> + 'a {
        self.deployments
            .range((window.from(), String::new())..(window.to(), String::new()))
            .map(|(_, d)| d)
    }

    fn incidents_in<'a>(&'a self, window: &Window) -> impl Iterator<Item = &'a IncidentEvent> + 'a {
        self.incidents
            .range((window.from(), String::new())..(window.to(), String::new()))
            .map(|(_, i)| i)
    }
}

/// The default store: everything in memory, per (tenant, environment) partitions with events
/// ordered by time, so a window query is a range scan.
#[derive(Debug, Default)]
pub struct InMemoryDoraStore {
    partitions: RwLock<BTreeMap<(String, String), Partition>>,
}

impl InMemoryDoraStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<(String, String), Partition>> {
        // A panic in another thread cannot leave a partition half-written (every write is a
        // single insert), so a poisoned lock is still consistent.
        read(&self.partitions)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<(String, String), Partition>> {
        write(&self.partitions)
    }

    fn for_each_partition<'a>(
        partitions: &'a BTreeMap<(String, String), Partition>,
        scope: &Scope,
        mut each: impl FnMut(&'a Partition),
    ) {
        match &scope.environment {
            Some(environment) => {
                if let Some(p) = partitions.get(&(scope.tenant.clone(), environment.clone())) {
                    each(p);
                }
            }
            None => partitions
                .range((scope.tenant.clone(), String::new())..)
                .take_while(|((tenant, _), _)| *tenant == scope.tenant)
                .for_each(|(_, p)| each(p)),
        }
    }
}

impl DoraStore for InMemoryDoraStore {
    fn insert_deployment(&self, deployment: &DeploymentEvent) -> Result<Recorded, DoraError> {
        deployment.validate()?;
        let mut partitions = self.write();
        let partition = partitions
            .entry((deployment.tenant.clone(), deployment.environment.clone()))
            .or_default();
        if let Some(at) = partition.deployment_times.get(&deployment.deployment_id) {
            let existing = partition
                .deployments
                .get(&(*at, deployment.deployment_id.clone()));
            return match existing.and_then(|e| e.first_difference(deployment)) {
                None => Ok(Recorded::Unchanged),
                Some(field) => Err(ValidationError::ConflictingDuplicate {
                    kind: EventKind::Deployment,
                    tenant: deployment.tenant.clone(),
                    environment: deployment.environment.clone(),
                    id: deployment.deployment_id.clone(),
                    field,
                }
                .into()),
            };
        }
        partition
            .deployment_times
            .insert(deployment.deployment_id.clone(), deployment.deployed_at);
        partition.deployments.insert(
            (deployment.deployed_at, deployment.deployment_id.clone()),
            deployment.clone(),
        );
        Ok(Recorded::New)
    }

    fn insert_incident(&self, incident: &IncidentEvent) -> Result<Recorded, DoraError> {
        incident.validate()?;
        let mut partitions = self.write();
        let partition = partitions
            .entry((incident.tenant.clone(), incident.environment.clone()))
            .or_default();
        if let Some(at) = partition.incident_times.get(&incident.incident_id) {
            let existing = partition
                .incidents
                .get(&(*at, incident.incident_id.clone()));
            return match existing.and_then(|e| e.first_difference(incident)) {
                None => Ok(Recorded::Unchanged),
                Some(field) => Err(ValidationError::ConflictingDuplicate {
                    kind: EventKind::Incident,
                    tenant: incident.tenant.clone(),
                    environment: incident.environment.clone(),
                    id: incident.incident_id.clone(),
                    field,
                }
                .into()),
            };
        }
        partition
            .incident_times
            .insert(incident.incident_id.clone(), incident.started_at);
        partition.incidents.insert(
            (incident.started_at, incident.incident_id.clone()),
            incident.clone(),
        );
        Ok(Recorded::New)
    }

    fn update_incident(
        &self,
        tenant: &str,
        environment: &str,
        incident_id: &str,
        update: IncidentUpdate,
    ) -> Result<(Recorded, IncidentEvent), DoraError> {
        let unknown = || ValidationError::UnknownIncident {
            tenant: tenant.to_owned(),
            environment: environment.to_owned(),
            id: incident_id.to_owned(),
        };
        let mut partitions = self.write();
        let partition = partitions
            .get_mut(&(tenant.to_owned(), environment.to_owned()))
            .ok_or_else(unknown)?;
        let started_at = *partition
            .incident_times
            .get(incident_id)
            .ok_or_else(unknown)?;
        let incident = partition
            .incidents
            .get_mut(&(started_at, incident_id.to_owned()))
            .ok_or_else(unknown)?;
        let changed = incident.apply(update)?;
        let recorded = if changed {
            Recorded::New
        } else {
            Recorded::Unchanged
        };
        Ok((recorded, incident.clone()))
    }

    fn deployments(
        &self,
        scope: &Scope,
        window: &Window,
    ) -> Result<Vec<DeploymentEvent>, DoraError> {
        let mut out = Vec::new();
        self.visit_deployments(scope, window, &mut |d| out.push(d.clone()))?;
        // Across environments, merge into one (deployedAt, id) order.
        if scope.environment.is_none() {
            out.sort_by(|a, b| {
                (a.deployed_at, &a.deployment_id, &a.environment).cmp(&(
                    b.deployed_at,
                    &b.deployment_id,
                    &b.environment,
                ))
            });
        }
        Ok(out)
    }

    fn incidents(&self, scope: &Scope, window: &Window) -> Result<Vec<IncidentEvent>, DoraError> {
        let mut out = Vec::new();
        self.visit_incidents(scope, window, &mut |i| out.push(i.clone()))?;
        if scope.environment.is_none() {
            out.sort_by(|a, b| {
                (a.started_at, &a.incident_id, &a.environment).cmp(&(
                    b.started_at,
                    &b.incident_id,
                    &b.environment,
                ))
            });
        }
        Ok(out)
    }

    fn visit_deployments(
        &self,
        scope: &Scope,
        window: &Window,
        visit: &mut dyn FnMut(&DeploymentEvent),
    ) -> Result<(), DoraError> {
        let partitions = self.read();
        Self::for_each_partition(&partitions, scope, |p| {
            p.deployments_in(window).for_each(&mut *visit);
        });
        Ok(())
    }

    fn visit_incidents(
        &self,
        scope: &Scope,
        window: &Window,
        visit: &mut dyn FnMut(&IncidentEvent),
    ) -> Result<(), DoraError> {
        let partitions = self.read();
        Self::for_each_partition(&partitions, scope, |p| {
            p.incidents_in(window).for_each(&mut *visit);
        });
        Ok(())
    }

    fn environments(&self, tenant: &str) -> Result<Vec<String>, DoraError> {
        let partitions = self.read();
        Ok(partitions
            .range((tenant.to_owned(), String::new())..)
            .take_while(|((t, _), _)| t == tenant)
            .map(|((_, environment), _)| environment.clone())
            .collect())
    }
}
