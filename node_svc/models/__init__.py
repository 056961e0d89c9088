"""The node's local model store and the installer that fills it from the model hub."""

from node_svc.models.installer import InstallResult, ModelInstaller, choose_version
from node_svc.models.local import FileEntry, LocalModel, version_key
from node_svc.models.progress import InstallProgress
from node_svc.models.store import ModelStore, default_models_dir
from node_svc.models.trust import ModelTrust

__all__ = ["FileEntry", "InstallProgress", "InstallResult", "LocalModel", "ModelInstaller", "ModelStore",
           "ModelTrust", "choose_version", "default_models_dir", "version_key"]
