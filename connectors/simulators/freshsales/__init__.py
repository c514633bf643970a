"""A local, wire-faithful Freshsales (Freshworks CRM) API: see reference/freshsales.md.

Where the reference marks a behaviour "unconfirmed", the simulator picks one and says so here:
- the hourly limit is a rolling hour (the strictest reading); over it: 429, `Retry-After`, `x-ratelimit-*`;
- a bulk_upsert job stays IN_PROGRESS for `job_seconds` of simulated time; its status answers
  `{"job_status":{id,status,total,success,failed,results:[{index,status,id|errors}]}}`; ≤100 records a job;
- bulk_destroy answers `{"deleted_ids":[…],"failed_ids":[…]}`;
- contacts, sales_accounts and deals go to the recycle bin on DELETE and have `/forget`; `/forget` also removes
  the record's notes and documents; other resources' DELETE is final;
- `/settings/<module>/fields` exists only for contacts, sales_accounts, deals and sales_activities;
- notes have no size limit (the connector splits at its own threshold); unknown attributes are dropped, unknown
  `cf_` keys are refused.
Test-only endpoints live under `/__sim__/` and need no key: state, reset, clock, faults, plan, requests,
recycle_bin, fields/<module> (the customer's admin creating a field), records/<resource>/<id> (a user's edit).
"""
