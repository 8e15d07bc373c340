//! The bundled LwM2M server (Bootstrap and Device Management).
