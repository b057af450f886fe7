document.title = "chat";
