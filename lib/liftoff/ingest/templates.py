"""Downloadable templates: a header and an example row for each kind of file."""

from __future__ import annotations

TEMPLATES: dict[str, str] = {
    # The last three columns set a new metric's unit, category and direction (which way is
    # better); a metric Liftoff knows keeps its own, so they may stay empty for it. The check
    # names them when they are missing (helper-27 found them only there).
    "metrics": (
        "initiative,iteration,metric,value,recorded_at,segment,candidate,unit,category,direction\n"
        "Churn early-warning,6,churn_auc,0.842,2026-11-20,,lgbm-offers,,,\n"
        "Churn early-warning,6,retention_rate_90d,87.4%,2026-11-20,EU,,,,\n"
        "Churn early-warning,6,Average queue wait,12.5,2026-11-20,,,min,business KPI,lower\n"
    ),
    "feedback": (
        "initiative,iteration,received_at,source,rating,text,theme,status,action_taken\n"
        'Churn early-warning,6,2026-11-18,end_user,4,"Reason codes help me open the call.",explainability,new,\n'
    ),
    "concerns": (
        "key,title,description,raised_by,stakeholder_group,category,severity,status,owner,raised_at,due,metric,comparator,threshold\n"
        "RISK-7,Latency too high for agents,p95 above 300 ms at peak,Jonas Weber,IT operations,scalability,high,open,"
        "Tom Becker,2026-11-02,2026-12-15,p95_latency_ms,<=,300\n"
    ),
    "loadtest": (
        "initiative,iteration,users,rps,p50_ms,p95_ms,p99_ms,error_rate\n"
        "Churn early-warning,6,50,48.5,80,210,320,0.1%\n"
    ),
    "traffic": "initiative,date,peak_rps\nChurn early-warning,2026-11-16,14.8\n",
    "criteria": (
        "initiative,iteration,kind,description,metric,comparator,target,status,evidence\n"
        "Churn early-warning,7,innovation,Churn model AUC at least 0.85,churn_auc,>=,0.85,,\n"
        "Churn early-warning,7,learning,Learn whether offers change the outcome,,,,met,Interviews with 8 agents\n"
    ),
    "governance": (
        "initiative,area,required_from,status,evidence,owner,updated\n"
        "Churn early-warning,model_card,production,in_progress,Draft on the wiki,Lea Fischer,2026-11-20\n"
    ),
    "stakeholders": (
        "initiative,iteration,name,group,influence,stance,note\n"
        "Churn early-warning,6,Karl Schmidt,Finance,5,skeptic,Wants retention uplift before more spend\n"
    ),
    "mlflow-runs": (
        "run_id,experiment_id,status,start_time,end_time,metrics.auc,metrics.val_loss,params.learning_rate,tags.mlflow.runName,tags.iteration\n"
        "3f2a9c1e,1,FINISHED,2026-11-20 10:00:00+00:00,2026-11-20 10:20:00+00:00,0.842,0.331,0.05,lgbm-offers,6\n"
    ),
    "mlflow-history": "run_id,key,value,step,timestamp\n3f2a9c1e,auc,0.842,4,1795600000000\n",
    "locust": (
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
        "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        ",Aggregated,1722,10,18,194.7,12.0,2442.8,2.0,86.1,0.5,18,26,280,400,590,1100,1300,1400,2400,2400,2400\n"
    ),
}


def template(kind: str) -> bytes:
    """The template of `kind` as CSV bytes."""
    return TEMPLATES[kind].encode("utf-8")
