"""FAISS index construction shared by the indexer (segments) and search replicas (merged views).

`services.common` stays free of faiss so the gateway stays light; this package holds what both
FAISS-using services build the same way.
"""
