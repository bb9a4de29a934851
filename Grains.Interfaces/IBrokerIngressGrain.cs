namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// Takes in the messages a broker delivers on one stream (keyed by the broker message's key, the patient_id) through
/// the one ingest path. It has no methods: Orleans' persistent streams call it through its implicit subscription, and
/// a message counts as delivered only once its outcome (stored, duplicate or quarantined) is durable.
/// </summary>
[Alias("broker-ingress")]
public interface IBrokerIngressGrain : IGrainWithStringKey;
